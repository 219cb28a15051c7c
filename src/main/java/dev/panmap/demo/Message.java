package dev.panmap.demo;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The demo's one shared record, at the start of a region's data area: a text with a sequence number
 * and a checksum. Writers hold the region's writer lock; readers take no lock and use the sequence
 * as a seqlock (odd while a write is under way), so they never print a half-written text.
 *
 * <pre>
 *   0  sequence (8)     2 x the update number; odd while being written
 *   8  length (4)       bytes of text
 *  12  checksum (4)     CRC32C of the text
 *  16  text (up to 240 bytes, UTF-8)
 * </pre>
 */
final class Message {
    private Message() {}

    static final long SEQUENCE_OFFSET = 0;
    static final long LENGTH_OFFSET = 8;
    static final long CHECKSUM_OFFSET = 12;
    static final long TEXT_OFFSET = 16;
    static final int MAX_TEXT = 240;
    /** The bytes the record takes: the demo keeps its other data beyond this. */
    static final long SIZE = TEXT_OFFSET + MAX_TEXT;

    private static final VarHandle SEQUENCE = ValueLayout.JAVA_LONG.varHandle();

    /**
     * A consistent read.
     *
     * @param update the update number (sequence / 2)
     * @param intact whether the text matches its checksum
     */
    record Snapshot(long update, String text, boolean intact) {}

    /** Publishes update {@code update} (caller holds the writer lock). */
    static void write(MemorySegment data, long update, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_TEXT) {
            throw new IllegalArgumentException("message longer than " + MAX_TEXT + " bytes: " + text);
        }
        SEQUENCE.setOpaque(data, SEQUENCE_OFFSET, 2 * update - 1); // odd: readers wait
        VarHandle.storeStoreFence();
        MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, TEXT_OFFSET, bytes.length);
        data.set(ValueLayout.JAVA_INT, LENGTH_OFFSET, bytes.length);
        data.set(ValueLayout.JAVA_INT, CHECKSUM_OFFSET, checksum(bytes));
        SEQUENCE.setRelease(data, SEQUENCE_OFFSET, 2 * update); // even: complete
    }

    /** {@return the current update number, 0 before the first} (odd sequences round down: not complete yet) */
    static long latestUpdate(MemorySegment data) {
        return (long) SEQUENCE.getAcquire(data, SEQUENCE_OFFSET) / 2;
    }

    /** {@return a consistent snapshot}, retrying while a write is under way; null if none came in time */
    static Snapshot read(MemorySegment data, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        do {
            long before = (long) SEQUENCE.getAcquire(data, SEQUENCE_OFFSET);
            if (before % 2 == 0) {
                int length = Math.clamp(data.get(ValueLayout.JAVA_INT, LENGTH_OFFSET), 0, MAX_TEXT);
                int stored = data.get(ValueLayout.JAVA_INT, CHECKSUM_OFFSET);
                byte[] bytes = data.asSlice(TEXT_OFFSET, length).toArray(ValueLayout.JAVA_BYTE);
                VarHandle.loadLoadFence();
                if ((long) SEQUENCE.getOpaque(data, SEQUENCE_OFFSET) == before) {
                    return new Snapshot(before / 2, new String(bytes, StandardCharsets.UTF_8), checksum(bytes) == stored);
                }
            }
            Thread.onSpinWait();
        } while (System.nanoTime() - deadline < 0);
        return null;
    }

    private static int checksum(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }
}
