package dev.panmap.internal;

/**
 * The layout of a {@code SeqRecord} inside a region's data area: a multi-word record that one writer
 * (holding the writer lock) updates and any number of readers read without locks, system calls or
 * torn values. Two slots, as LMDB keeps two meta pages: the writer fills the slot that is not
 * published and then publishes it with one aligned 8-byte release store.
 * <strong>Any change here must change {@link #VERSION}.</strong>
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  magic "SEQREC" + version (8)                 | 0
 *  |                    payload size (4)                           | 8
 *  |                    slot stride (4)                            | 12
 *  |       published: sequence << 1 | slot index (8)               | 16   the one word readers start from
 *  |               repaired interrupted writes (8)                 | 24
 *  |                      reserved (32)                            | 32
 *  +---------------------------------------------------------------+
 *  |  slot 0: slot sequence (8) | payload (payload size)           | 64   sequence odd while being written
 *  +---------------------------------------------------------------+
 *  |  slot 1: slot sequence (8) | payload (payload size)           | 64 + slot stride
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>Why readers never see a torn record and never hang</h2>
 * <ul>
 * <li>The writer only ever writes the slot that is <em>not</em> published: it makes that slot's
 *     sequence odd, writes the payload, makes the sequence even (release), and then publishes the
 *     slot in the {@code published} word (release). The published slot is never written.</li>
 * <li>A reader loads {@code published} (acquire), then the slot sequence (acquire), copies the payload,
 *     and loads the slot sequence again after a load-load fence. It accepts the copy only if both
 *     sequence loads are equal and even and {@code published} has not changed meanwhile (acquire);
 *     so it retries when a live writer published during the copy (once is enough to retry, though
 *     only a second publication could have touched the slot being copied).</li>
 * <li>A writer killed mid-write leaves the <em>unpublished</em> slot with an odd sequence; readers
 *     never look at it, because {@code published} still names the other, complete slot. The next
 *     writer (the next holder of the writer lock) finds the odd sequence, counts it in
 *     {@code repaired}, and simply rewrites that slot: an interrupted write is never visible.</li>
 * </ul>
 */
public final class RecordLayout {
    private RecordLayout() {}

    /** "SEQREC" in the low six bytes, the version in the top two. */
    public static final long MAGIC = 0x0000_4345_5251_4553L;
    public static final int VERSION = 1;
    public static final long MAGIC_AND_VERSION = MAGIC | ((long) VERSION << 48);

    public static final int MAGIC_OFFSET = 0;
    public static final int PAYLOAD_SIZE_OFFSET = 8;
    public static final int SLOT_STRIDE_OFFSET = 12;
    public static final int PUBLISHED_OFFSET = 16;
    public static final int REPAIRED_OFFSET = 24;
    public static final int SLOTS_OFFSET = 64;
    public static final int SLOT_SEQUENCE_OFFSET = 0;
    public static final int SLOT_PAYLOAD_OFFSET = 8;

    /** The largest payload, so that a record always fits an int stride. */
    public static final int MAX_PAYLOAD = 1 << 24;

    /** {@return the distance between the two slots: sequence + payload, rounded up to 64 bytes} */
    public static int slotStride(int payloadSize) {
        return (SLOT_PAYLOAD_OFFSET + payloadSize + 63) & ~63;
    }

    /** {@return the bytes a record with this payload occupies} */
    public static long footprint(int payloadSize) {
        return SLOTS_OFFSET + 2L * slotStride(payloadSize);
    }
}
