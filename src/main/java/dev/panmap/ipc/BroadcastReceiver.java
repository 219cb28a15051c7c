package dev.panmap.ipc;

import static dev.panmap.ipc.Ring.INT;
import static dev.panmap.ipc.Ring.LONG;
import static dev.panmap.ipc.Ring.LONG_HANDLE;
import static dev.panmap.ipc.RingLayout.*;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * A receiver of a broadcast buffer: any number may read, in any processes, without registering and
 * without ever slowing the transmitter. Each message is copied out and then validated: a receiver
 * never hands a torn message to its handler. One that fell a lap behind jumps to the latest message,
 * counts a lap ({@link #lapped()}) and the messages it lost on the way ({@link #lost()}, from the
 * sequence numbers). One thread at a time.
 */
public final class BroadcastReceiver {
    private final SharedRegion region;
    private final long root;
    private final MemorySegment control;
    private final MemorySegment buffer;
    private final long capacity;
    private final long mask;
    private final int maxMessage;
    /** Two of the largest records: how far apart the transmitter's positions can be. */
    private final long span;
    private MemorySegment scratch;
    private long cursor;
    private long expected = -1;
    private long lapped;
    private long lost;
    private long received;

    private BroadcastReceiver(SharedRegion region, long root, long capacity) {
        this.region = region;
        this.root = root;
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.maxMessage = maxBroadcastLength(capacity);
        this.span = 2 * align(maxMessage + (long) BROADCAST_HEADER_LENGTH);
        MemorySegment all = region.segment().asSlice(root, BROADCAST_BUFFER_OFFSET + capacity);
        this.control = all.asSlice(0, BROADCAST_BUFFER_OFFSET);
        this.buffer = all.asSlice(BROADCAST_BUFFER_OFFSET, capacity);
        this.scratch = Arena.ofAuto().allocate(Math.min(4096, align(maxMessage)), 8);
        this.expected = (long) LONG_HANDLE.getAcquire(control, (long) TRANSMITTED_OFFSET);
        this.cursor = (long) LONG_HANDLE.getAcquire(control, (long) BROADCAST_TAIL_OFFSET);
        VarHandle.loadLoadFence();
        if (this.expected < (long) LONG_HANDLE.getAcquire(control, (long) TRANSMITTED_OFFSET)) {
            this.expected = -1; // a message went out between the two reads: count from the first one seen
        }
    }

    /**
     * Attaches to the broadcast buffer at data offset {@code offset}; receives what is sent from now on.
     *
     * @param region the region it lives in
     * @param offset its data offset in the region
     * @return the receiver
     */
    public static BroadcastReceiver attach(SharedRegion region, long offset) {
        return new BroadcastReceiver(region, offset, BroadcastTransmitter.checkBroadcast(region, offset));
    }

    /**
     * Receives up to {@code limit} messages; each payload is handed over in a private copy, valid
     * during the call. Laps and padding records are counted in a row against {@link RingLayout#MAX_SKIPS}:
     * a read that meets that many ends with what it has.
     *
     * @param handler what each message is handed to
     * @param limit the most messages to read
     * @return how many were handed to the handler
     * @throws RegionException {@link ErrorKind#CORRUPT_REGION} for positions no transmitter stores
     *         (a tail past its intent; tail, intent and latest more than two records apart) or a
     *         record no transmitter writes
     */
    public int read(MessageHandler handler, int limit) {
        int count = 0;
        int skips = 0;
        while (count < limit && skips < MAX_SKIPS) {
            long tail = (long) LONG_HANDLE.getAcquire(control, (long) BROADCAST_TAIL_OFFSET);
            if (cursor >= tail) {
                break;
            }
            long intent = (long) LONG_HANDLE.getAcquire(control, (long) TAIL_INTENT_OFFSET);
            if (tail > intent) {
                throw damaged("tail " + tail + " past the tail intent " + intent + " read after it");
            }
            if (cursor + capacity <= intent) {
                lap(tail);
                skips++;
                continue;
            }
            long index = cursor & mask;
            int recordLength = buffer.get(INT, index);
            int type = buffer.get(INT, index + 4);
            boolean padding = type == PADDING_TYPE;
            // a padding record may be 8 bytes, at the very end: it has no sequence
            long sequence = padding ? -1 : buffer.get(LONG, Math.min(index + BROADCAST_SEQUENCE_OFFSET, capacity - 8));
            int payload = recordLength - BROADCAST_HEADER_LENGTH;
            boolean sane = padding ? recordLength >= RECORD_ALIGNMENT && recordLength <= capacity - index
                : type >= 1 && payload >= 0 && payload <= maxMessage && align(recordLength) <= capacity - index;
            if (sane && !padding) {
                if (scratch.byteSize() < payload) {
                    scratch = Arena.ofAuto().allocate(align(Math.max(payload, scratch.byteSize() * 2L)), 8);
                }
                MemorySegment.copy(buffer, index + BROADCAST_HEADER_LENGTH, scratch, 0, payload);
            }
            VarHandle.loadLoadFence(); // the copy before the check of the transmitter's intent
            if (cursor + capacity <= (long) LONG_HANDLE.getAcquire(control, (long) TAIL_INTENT_OFFSET)) {
                lap(tail);
                skips++;
                continue;
            }
            if (!sane) {
                throw damaged("a record of length " + recordLength + " and type " + type + " at position " + cursor);
            }
            cursor += align(recordLength);
            if (padding) {
                skips++;
                continue;
            }
            skips = 0;
            if (expected >= 0 && sequence > expected) {
                lost += sequence - expected;
            }
            expected = sequence + 1;
            count++;
            received++;
            handler.onMessage(type, scratch, 0, payload);
        }
        return count;
    }

    private RegionException damaged(String what) {
        return new RegionException(ErrorKind.CORRUPT_REGION, "the broadcast buffer at offset " + root + " of " + region.name()
            + " is damaged: " + what);
    }

    /**
     * Lapped: jumps to the latest record, after checking the transmitter's positions against each
     * other (a tail at most its intent, and tail, intent and latest within two records of each other:
     * forged ones must not send the cursor anywhere).
     */
    private void lap(long tailBefore) {
        lapped++;
        long intent = (long) LONG_HANDLE.getAcquire(control, (long) TAIL_INTENT_OFFSET);
        long tail = (long) LONG_HANDLE.getAcquire(control, (long) BROADCAST_TAIL_OFFSET);
        long latest = (long) LONG_HANDLE.getAcquire(control, (long) LATEST_OFFSET);
        long intentAfter = (long) LONG_HANDLE.getAcquire(control, (long) TAIL_INTENT_OFFSET);
        if (latest < 0 || tailBefore > intent || tail < intent - span || latest < tail - span || latest > intentAfter) {
            throw damaged("tail " + tailBefore + " then " + tail + ", tail intent " + intent + " then " + intentAfter + ", latest "
                + latest + " (a tail is at most its intent, and tail, intent and latest lie within " + span + " bytes of each other)");
        }
        cursor = latest;
    }

    /** {@return how many times this receiver was lapped and jumped ahead} */
    public long lapped() {
        return lapped;
    }

    /** {@return how many messages this receiver lost to laps} */
    public long lost() {
        return lost;
    }

    /** {@return how many messages this receiver handed to its handler} */
    public long received() {
        return received;
    }

    /** {@return the next position this receiver reads} */
    public long position() {
        return cursor;
    }
}
