package dev.panmap.demo;

import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The demo's one shared message, a {@link SeqRecord} at the start of a region's data area: writers
 * hold the region's writer lock; readers take no lock and never see a half-written message, also
 * when a writer is killed mid-write. Its payload:
 *
 * <pre>
 *   0  update number (8)
 *   8  length (4)       bytes of text
 *  12  checksum (4)     CRC32C of the text
 *  16  text (up to 240 bytes, UTF-8)
 * </pre>
 */
final class Message {
    private Message() {}

    private static final long UPDATE_OFFSET = 0;
    private static final long LENGTH_OFFSET = 8;
    private static final long CHECKSUM_OFFSET = 12;
    private static final long TEXT_OFFSET = 16;
    private static final int MAX_TEXT = 240;
    private static final int PAYLOAD = (int) TEXT_OFFSET + MAX_TEXT;
    /** The bytes the record takes at the start of the data area: the demo keeps its other data beyond. */
    static final long SIZE = SeqRecord.footprint(PAYLOAD);

    /**
     * A consistent read.
     *
     * @param update the update number
     * @param intact whether the text matches its checksum
     */
    record Snapshot(long update, String text, boolean intact) {}

    /** Lays the record out in a new region (its creator does this once). */
    static SeqRecord format(SharedRegion region) {
        return SeqRecord.format(region, 0, PAYLOAD);
    }

    /** The record of a region the demo formatted. */
    static SeqRecord attach(SharedRegion region) {
        return SeqRecord.attach(region, 0);
    }

    /** Publishes update {@code update} (the caller holds the writer lock). */
    static void write(SeqRecord record, long update, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_TEXT) {
            throw new IllegalArgumentException("message longer than " + MAX_TEXT + " bytes: " + text);
        }
        record.write(p -> {
            p.set(ValueLayout.JAVA_LONG, UPDATE_OFFSET, update);
            p.set(ValueLayout.JAVA_INT, LENGTH_OFFSET, bytes.length);
            p.set(ValueLayout.JAVA_INT, CHECKSUM_OFFSET, checksum(bytes));
            MemorySegment.copy(bytes, 0, p, ValueLayout.JAVA_BYTE, TEXT_OFFSET, bytes.length);
        });
    }

    /** {@return a consistent snapshot of the latest message} */
    static Snapshot read(SeqRecord record) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(PAYLOAD);
            record.read(copy);
            int length = Math.clamp(copy.get(ValueLayout.JAVA_INT, LENGTH_OFFSET), 0, MAX_TEXT);
            byte[] bytes = copy.asSlice(TEXT_OFFSET, length).toArray(ValueLayout.JAVA_BYTE);
            return new Snapshot(copy.get(ValueLayout.JAVA_LONG, UPDATE_OFFSET), new String(bytes, StandardCharsets.UTF_8),
                checksum(bytes) == copy.get(ValueLayout.JAVA_INT, CHECKSUM_OFFSET));
        }
    }

    private static int checksum(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }
}
