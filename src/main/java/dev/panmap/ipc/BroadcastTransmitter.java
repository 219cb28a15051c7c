package dev.panmap.ipc;

import static dev.panmap.ipc.Ring.INT;
import static dev.panmap.ipc.Ring.LONG;
import static dev.panmap.ipc.Ring.LONG_HANDLE;
import static dev.panmap.ipc.RingLayout.*;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import dev.panmap.internal.Platform;
import dev.panmap.internal.ProcessStamp;
import dev.panmap.internal.TestPoints;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * The one transmitter of a broadcast buffer ({@link RingLayout}, "Broadcast"): it never waits for
 * receivers; a receiver that falls a lap behind loses messages and knows how many
 * ({@link BroadcastReceiver}). Each message carries a sequence number. One thread at a time.
 */
public final class BroadcastTransmitter implements AutoCloseable {
    private final SharedRegion region;
    private final long root;
    private final MemorySegment control;
    private final MemorySegment buffer;
    private final long capacity;
    private final long mask;
    private final int maxMessage;
    private final long self;
    private final Liveness liveness;
    private long tail;
    private long sequence;
    private boolean closed;

    private BroadcastTransmitter(SharedRegion region, long root, long capacity, long self, Liveness liveness) {
        this.region = region;
        this.root = root;
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.maxMessage = maxBroadcastLength(capacity);
        MemorySegment all = region.segment().asSlice(root, BROADCAST_BUFFER_OFFSET + capacity);
        this.control = all.asSlice(0, BROADCAST_BUFFER_OFFSET);
        this.buffer = all.asSlice(BROADCAST_BUFFER_OFFSET, capacity);
        this.self = self;
        this.liveness = liveness;
        this.tail = (long) LONG_HANDLE.getAcquire(control, (long) BROADCAST_TAIL_OFFSET);
        this.sequence = (long) LONG_HANDLE.getAcquire(control, (long) TRANSMITTED_OFFSET);
    }

    /**
     * Creates a broadcast buffer at data offset {@code offset} (128-aligned) of {@code region}, taking
     * {@link RingLayout#broadcastFootprint} bytes (zeroed), and becomes its transmitter.
     *
     * @param region the region it lives in
     * @param offset its data offset in the region (128-aligned)
     * @param capacity buffer bytes, a power of two of at least 1024
     * @return the transmitter
     */
    public static BroadcastTransmitter create(SharedRegion region, long offset, long capacity) {
        long footprint = broadcastFootprint(capacity);
        MemorySegment data = region.segment();
        checkPlace(data, offset, footprint, "a broadcast buffer");
        Platform platform = Platform.current();
        Liveness liveness = new Liveness(region, platform);
        long lock = lockByte(offset, TRANSMITTER_OFFSET);
        if (!liveness.take(lock)) {
            throw new IllegalStateException("the broadcast buffer at offset " + offset + " of " + region.name()
                + " has a live transmitter: its lock byte is held");
        }
        try {
            MemorySegment r = data.asSlice(offset, footprint);
            LONG_HANDLE.setRelease(r, (long) MAGIC_OFFSET, 0L);
            r.fill((byte) 0);
            r.set(LONG, CAPACITY_OFFSET, capacity);
            r.set(INT, MAX_MESSAGE_OFFSET, maxBroadcastLength(capacity));
            r.set(LONG, CREATED_MILLIS_OFFSET, System.currentTimeMillis());
            long self = Liveness.self(platform);
            r.set(LONG, TRANSMITTER_OFFSET, self);
            publish(data, offset, BROADCAST_MAGIC, KIND_BROADCAST);
            return new BroadcastTransmitter(region, offset, capacity, self, liveness);
        } catch (RuntimeException | Error e) {
            liveness.release(lock);
            throw e;
        }
    }

    /**
     * Becomes the transmitter of an existing broadcast buffer, in place of a dead one (whose lock byte
     * the kernel let go); it goes on from the tail and the sequence the dead one left. A record the
     * dead one was writing (its tail intent past its tail) is padded over first: a receiver that kept
     * up reads padding there, never the half-written record or the previous lap's.
     *
     * @throws IllegalStateException if a live transmitter holds it
     * @param region the region it lives in
     * @param offset its data offset in the region
     * @return the transmitter
     */
    public static BroadcastTransmitter attach(SharedRegion region, long offset) {
        long capacity = checkBroadcast(region, offset);
        Platform platform = Platform.current();
        Liveness liveness = new Liveness(region, platform);
        long lock = lockByte(offset, TRANSMITTER_OFFSET);
        MemorySegment control = region.segment().asSlice(offset, BROADCAST_BUFFER_OFFSET);
        if (!liveness.take(lock)) {
            long stamp = (long) LONG_HANDLE.getVolatile(control, (long) TRANSMITTER_OFFSET);
            throw new IllegalStateException("the broadcast buffer at offset " + offset + " of " + region.name()
                + " has a transmitter already: pid " + ProcessStamp.pid(stamp) + ", alive (its lock byte is held)");
        }
        try {
            long self = Liveness.self(platform);
            MemorySegment buffer = region.segment().asSlice(offset + BROADCAST_BUFFER_OFFSET, capacity);
            padToIntent(control, buffer, capacity, offset, region.name());
            LONG_HANDLE.setRelease(control, (long) TRANSMITTER_OFFSET, self); // over a dead transmitter's stamp
            return new BroadcastTransmitter(region, offset, capacity, self, liveness);
        } catch (RuntimeException | Error e) {
            liveness.release(lock);
            throw e;
        }
    }

    /**
     * A dead transmitter may have stored its intent and not its tail: pads [tail, intent) with padding
     * records (one to the end of the lap if it wraps, one from 0 after), then moves the tail there.
     */
    private static void padToIntent(MemorySegment control, MemorySegment buffer, long capacity, long offset, String name) {
        long tail = (long) LONG_HANDLE.getAcquire(control, (long) BROADCAST_TAIL_OFFSET);
        long intent = (long) LONG_HANDLE.getAcquire(control, (long) TAIL_INTENT_OFFSET);
        if (intent == tail) {
            return;
        }
        long span = 2 * align(maxBroadcastLength(capacity) + (long) BROADCAST_HEADER_LENGTH);
        if (intent < tail || intent - tail > span || tail % RECORD_ALIGNMENT != 0 || intent % RECORD_ALIGNMENT != 0) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, "the broadcast buffer at offset " + offset + " of " + name
                + " is damaged: tail " + tail + ", tail intent " + intent + " (an intent is at most two records past its tail)");
        }
        long mask = capacity - 1;
        for (long p = tail; p < intent; ) {
            long index = p & mask;
            long n = Math.min(intent - p, capacity - index);
            LONG_HANDLE.setRelease(buffer, index, header((int) n, PADDING_TYPE));
            p += n;
        }
        LONG_HANDLE.setRelease(control, (long) BROADCAST_TAIL_OFFSET, intent); // after the padding
    }

    /** Checks a broadcast buffer's magic, version, kind and size; {@return its capacity} */
    static long checkBroadcast(SharedRegion region, long offset) {
        MemorySegment data = region.segment();
        int kind = check(data, offset, BROADCAST_MAGIC, "broadcast buffer");
        long capacity = data.get(LONG, offset + CAPACITY_OFFSET);
        if (kind != KIND_BROADCAST || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Long.bitCount(capacity) != 1
            || BROADCAST_BUFFER_OFFSET + capacity > data.byteSize() - offset) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, "the broadcast buffer at data offset " + offset + " of "
                + region.name() + " is damaged: kind " + kind + ", capacity " + capacity);
        }
        return capacity;
    }

    /** {@return the state of the broadcast buffer at data offset {@code offset}, for tools; reads only} */
    static RingState state(SharedRegion region, long offset) {
        long capacity = checkBroadcast(region, offset);
        MemorySegment control = region.segment().asSlice(offset, BROADCAST_BUFFER_OFFSET);
        Liveness liveness = new Liveness(region, Platform.current());
        long stamp = (long) LONG_HANDLE.getVolatile(control, (long) TRANSMITTER_OFFSET);
        long tail = (long) LONG_HANDLE.getVolatile(control, (long) BROADCAST_TAIL_OFFSET);
        return new RingState("broadcast", capacity, maxBroadcastLength(capacity), tail, 0, 0,
            (long) LONG_HANDLE.getVolatile(control, (long) TRANSMITTED_OFFSET), 0,
            stamp == 0 ? java.util.List.of()
                : java.util.List.of(ProcessStamp.info(stamp, 0, liveness.alive(lockByte(offset, TRANSMITTER_OFFSET)))), 1, null, 0, 0, 0, 0);
    }

    /** {@return the largest payload} */
    public int maxMessageLength() {
        return maxMessage;
    }

    /**
     * Sends {@code src} as one message to every receiver.
     *
     * @param type the message type, at least 1
     * @param src the payload
     */
    public void transmit(int type, MemorySegment src) {
        if (src.byteSize() > maxMessage) {
            throw new IllegalArgumentException("message length must be in [0, " + maxMessage + "]: length=" + src.byteSize());
        }
        transmit(type, src, 0, (int) src.byteSize());
    }

    /**
     * Sends {@code length} bytes of {@code src} at {@code srcOffset} as one message to every receiver.
     *
     * @param type the message type, at least 1
     * @param src holds the payload
     * @param srcOffset where the payload starts in {@code src}
     * @param length the payload's length in bytes
     */
    public void transmit(int type, MemorySegment src, long srcOffset, int length) {
        if (type < 1) {
            throw new IllegalArgumentException("message types start at 1: type=" + type);
        }
        if (length < 0 || length > maxMessage) {
            throw new IllegalArgumentException("message length must be in [0, " + maxMessage + "]: length=" + length);
        }
        if (closed) {
            throw new IllegalStateException("transmitter is closed");
        }
        int recordLength = length + BROADCAST_HEADER_LENGTH;
        long aligned = align(recordLength);
        long t = tail;
        long index = t & mask;
        long toEnd = capacity - index;
        long end = aligned > toEnd ? t + toEnd + aligned : t + aligned;
        LONG_HANDLE.setOpaque(control, (long) TAIL_INTENT_OFFSET, end);
        VarHandle.storeStoreFence(); // the intent before any byte of the lap it overwrites
        if (aligned > toEnd) {
            buffer.set(INT, index, (int) toEnd);
            buffer.set(INT, index + 4, PADDING_TYPE);
            t += toEnd;
            index = 0;
        }
        buffer.set(INT, index, recordLength);
        buffer.set(INT, index + 4, type);
        buffer.set(LONG, index + BROADCAST_SEQUENCE_OFFSET, sequence);
        TestPoints.hit("broadcastTransmitter.beforePayload");
        MemorySegment.copy(src, srcOffset, buffer, index + BROADCAST_HEADER_LENGTH, length);
        sequence++;
        LONG_HANDLE.setOpaque(control, (long) TRANSMITTED_OFFSET, sequence); // before the tail: a successor never reuses a number
        LONG_HANDLE.setRelease(control, (long) LATEST_OFFSET, t);
        LONG_HANDLE.setRelease(control, (long) BROADCAST_TAIL_OFFSET, end);
        tail = end;
    }

    /** {@return the messages transmitted through this buffer, by every transmitter it had} */
    public long transmitted() {
        return sequence;
    }

    /** {@return the data offset of the buffer's root} */
    public long offset() {
        return root;
    }

    /** Gives the transmitter's place up: its stamp cleared, then its lock byte let go. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (!region.isClosed()) { // closed: the lock went with the descriptor, the stamp is a dead transmitter's
                LONG_HANDLE.compareAndSet(control, (long) TRANSMITTER_OFFSET, self, 0L);
            }
            liveness.release(lockByte(root, TRANSMITTER_OFFSET));
        }
    }

    @Override
    public String toString() {
        return "BroadcastTransmitter[" + capacity + " bytes at offset " + root + " of " + region.name() + "]";
    }
}
