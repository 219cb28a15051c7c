package dev.panmap.ipc;

import static dev.panmap.ipc.RingLayout.*;

import dev.panmap.ErrorKind;
import dev.panmap.ProcessInfo;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import dev.panmap.internal.Platform;
import dev.panmap.internal.ProcessStamp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A message ring in a region ({@link RingLayout}): variable-length messages with a type id, passed
 * from producers to one consumer in any processes. {@link Kind#ONE_TO_ONE} has one producer and
 * needs no atomic instruction; {@link Kind#MANY_TO_ONE} takes any number of producers (up to its
 * producer entries), which claim space with one compare-and-set of the tail.
 *
 * <p>The ring holds only positions and offsets, so it works alike in both addressing modes. The
 * capacity is a power of two of up to 2^62 bytes, positions are {@code long}s.
 *
 * <pre>{@code
 * // process A: create the ring and produce
 * Ring ring = Ring.create(region, 0, Ring.Kind.MANY_TO_ONE, 1 << 20);
 * try (RingProducer producer = ring.producer()) {
 *     producer.write(1, MemorySegment.ofArray("hello".getBytes()));
 * }
 * // process B: attach and consume
 * try (RingConsumer consumer = Ring.attach(region, 0).consumer()) {
 *     consumer.read((type, buffer, offset, length) -> ..., 64);
 * }
 * }</pre>
 *
 * <p>A producer handle ({@link #producer()}) and the consumer handle ({@link #consumer()}) each
 * belong to one thread at a time. A ring object itself is immutable and may be shared.
 */
public final class Ring {
    /** How many may produce. */
    public enum Kind { ONE_TO_ONE, MANY_TO_ONE }

    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final VarHandle LONG_HANDLE = LONG.varHandle();
    static final VarHandle INT_HANDLE = INT.varHandle();

    /** How long a consumer waits on an unfinished claim before it asks whether its producer lives. */
    public static final Duration DEFAULT_DEAD_CLAIM_GRACE = Duration.ofMillis(10);

    final SharedRegion region;
    final long root;
    final Kind kind;
    /** Control block, producer table and buffer. */
    final MemorySegment ring;
    /** The buffer alone: what producers fill and consumers read. */
    final MemorySegment buffer;
    final long capacity;
    final int maxProducers;
    final int maxMessage;
    final Platform platform;
    final Liveness liveness;

    private Ring(SharedRegion region, long root, Kind kind, long capacity, int maxProducers, Platform platform) {
        this.region = region;
        this.root = root;
        this.kind = kind;
        this.capacity = capacity;
        this.maxProducers = maxProducers;
        this.maxMessage = RingLayout.maxMessageLength(capacity);
        long bufferOffset = bufferOffset(maxProducers);
        this.ring = region.segment().asSlice(root, bufferOffset + capacity);
        this.buffer = ring.asSlice(bufferOffset, capacity);
        this.platform = platform;
        this.liveness = Liveness.of(platform);
    }

    /** Creates a one-to-one ring, or a many-to-one ring with {@link RingLayout#DEFAULT_PRODUCERS} producer entries. */
    public static Ring create(SharedRegion region, long offset, Kind kind, long capacity) {
        return create(region, offset, kind, capacity, kind == Kind.ONE_TO_ONE ? 1 : DEFAULT_PRODUCERS);
    }

    /**
     * Creates a ring at data offset {@code offset} (128-aligned) of {@code region}, taking
     * {@link RingLayout#ringFootprint} bytes, which are zeroed. The ring is published last: an
     * {@link #attach} that races with the create sees no ring or a whole one.
     *
     * @param capacity     buffer bytes, a power of two ≥ 1024
     * @param maxProducers producer entries: how many producers may be registered at once (1 for {@code ONE_TO_ONE})
     */
    public static Ring create(SharedRegion region, long offset, Kind kind, long capacity, int maxProducers) {
        return create(region, offset, kind, capacity, maxProducers, true);
    }

    /**
     * As {@link #create(SharedRegion, long, Kind, long, int)}; {@code zeroBuffer} false leaves the
     * buffer as it is, which is right only when its bytes are known to be zero (a region just
     * created): a 60 GB ring is then not written through, and its pages are backed only as they are
     * first used.
     */
    public static Ring create(SharedRegion region, long offset, Kind kind, long capacity, int maxProducers, boolean zeroBuffer) {
        if (kind == Kind.ONE_TO_ONE && maxProducers != 1) {
            throw new IllegalArgumentException("a one-to-one ring has one producer entry: maxProducers=" + maxProducers);
        }
        long footprint = ringFootprint(capacity, maxProducers);
        MemorySegment data = region.segment();
        checkPlace(data, offset, footprint, "a ring");
        MemorySegment r = data.asSlice(offset, footprint);
        LONG_HANDLE.setRelease(r, (long) MAGIC_OFFSET, 0L); // unpublished while it is built
        (zeroBuffer ? r : r.asSlice(0, bufferOffset(maxProducers))).fill((byte) 0);
        r.set(LONG, CAPACITY_OFFSET, capacity);
        r.set(INT, MAX_PRODUCERS_OFFSET, maxProducers);
        r.set(INT, MAX_MESSAGE_OFFSET, RingLayout.maxMessageLength(capacity));
        r.set(LONG, CREATED_MILLIS_OFFSET, System.currentTimeMillis());
        publish(data, offset, RING_MAGIC, kind == Kind.ONE_TO_ONE ? KIND_ONE_TO_ONE : KIND_MANY_TO_ONE);
        return new Ring(region, offset, kind, capacity, maxProducers, Platform.current());
    }

    /**
     * Attaches to the ring at data offset {@code offset}: checks its magic, version, kind and sizes.
     * Works on a read-only region too (for {@link #state()}).
     */
    public static Ring attach(SharedRegion region, long offset) {
        MemorySegment data = region.segment();
        int code = check(data, offset, RING_MAGIC, "message ring");
        Kind kind = switch (code) {
            case KIND_ONE_TO_ONE -> Kind.ONE_TO_ONE;
            case KIND_MANY_TO_ONE -> Kind.MANY_TO_ONE;
            default -> throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, "the ring at data offset " + offset + " of "
                + region.name() + " is of kind " + code + (code == KIND_BROADCAST ? " (a broadcast buffer: BroadcastReceiver.attach)" : ""));
        };
        long capacity = data.get(LONG, offset + CAPACITY_OFFSET);
        int producers = data.get(INT, offset + MAX_PRODUCERS_OFFSET);
        boolean ok = capacity >= MIN_CAPACITY && capacity <= MAX_CAPACITY && Long.bitCount(capacity) == 1
            && producers >= 1 && producers <= MAX_PRODUCERS && (kind == Kind.MANY_TO_ONE || producers == 1)
            && bufferOffset(producers) + capacity <= data.byteSize() - offset;
        if (!ok) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, "the ring at data offset " + offset + " of " + region.name()
                + " is damaged: capacity " + capacity + ", " + producers + " producer entries, in a " + data.byteSize() + "-byte data area");
        }
        return new Ring(region, offset, kind, capacity, producers, Platform.current());
    }

    /** Registers a producer with signalling on (it wakes a consumer that sleeps in {@link RingConsumer#await}). */
    public RingProducer producer() {
        return producer(true);
    }

    /**
     * Registers a producer: takes a free producer entry, or one whose process is dead and whose last
     * claim the consumer has passed.
     *
     * @param signalling whether each commit checks for a sleeping consumer (a full fence and one load
     *                   per commit; without it, a consumer that sleeps in {@link RingConsumer#await}
     *                   wakes only at its timeout)
     * @throws IllegalStateException if a one-to-one ring has a live producer, or every entry of a
     *         many-to-one ring is taken
     */
    public RingProducer producer(boolean signalling) {
        long self = Liveness.self(platform);
        for (int i = 0; i < maxProducers; i++) {
            long e = entry(i);
            long stamp = (long) LONG_HANDLE.getVolatile(ring, e + ENTRY_STAMP_OFFSET);
            if (stamp == 0) {
                if (LONG_HANDLE.compareAndSet(ring, e + ENTRY_STAMP_OFFSET, 0L, self)) {
                    return new RingProducer(this, i, signalling);
                }
            } else if (stamp != self && !liveness.alive(stamp) && takeOver(i, stamp, self)) {
                return new RingProducer(this, i, signalling);
            } else if (kind == Kind.ONE_TO_ONE) {
                throw new IllegalStateException("the one-to-one ring at offset " + root + " of " + region.name()
                    + " has a producer already: pid " + ProcessStamp.pid(stamp) + (stamp == self ? " (this process)" : ", alive"));
            }
        }
        throw new IllegalStateException("all " + maxProducers + " producer entries of the ring at offset " + root + " of "
            + region.name() + " are taken by live producers (or by dead ones whose last claims are not consumed yet)");
    }

    /** Takes the entry of a dead producer; {@return whether it did} */
    private boolean takeOver(int index, long dead, long self) {
        long e = entry(index);
        long start = ring.get(LONG, e + ENTRY_CLAIM_START_OFFSET);
        long end = ring.get(LONG, e + ENTRY_CLAIM_END_OFFSET);
        long head = (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_OFFSET);
        if (end > head) {
            if (kind == Kind.MANY_TO_ONE) {
                return false; // its claim may still be pending: the consumer resolves it, other entries serve
            }
            // one-to-one: the only producer. A claim it made and published (tail moved) is padded
            // here; one it did not publish is overwritten from the tail by the new producer.
            if ((long) LONG_HANDLE.getAcquire(ring, (long) TAIL_OFFSET) == end) {
                padDeadClaim(claimHeaderIndex(start, end), index);
            }
        }
        if (!LONG_HANDLE.compareAndSet(ring, e + ENTRY_STAMP_OFFSET, dead, self)) {
            return false;
        }
        long committed = (long) LONG_HANDLE.getAcquire(ring, e + ENTRY_COMMITTED_OFFSET);
        LONG_HANDLE.getAndAdd(ring, (long) RETIRED_PRODUCED_OFFSET, committed);
        LONG_HANDLE.setRelease(ring, e + ENTRY_COMMITTED_OFFSET, 0L);
        return true;
    }

    /** {@return the buffer index of the header of the record claimed as {@code [start, end)}: after the wrap padding if there is one} */
    long claimHeaderIndex(long start, long end) {
        long index = start & (capacity - 1);
        return end - start > capacity - index ? 0 : index;
    }

    /**
     * Turns the claimed (negative) header at {@code index} into padding if it still names entry
     * {@code tag}; counts it. {@return whether this call did it}
     */
    boolean padDeadClaim(long index, int tag) {
        long h = (long) LONG_HANDLE.getVolatile(buffer, index);
        int length = length(h);
        if (length >= 0 || type(h) != tag) {
            return false;
        }
        long padding = header(-length, PADDING_TYPE);
        if (LONG_HANDLE.compareAndSet(buffer, index, h, padding)) {
            countSkipped(align(-length));
            return true;
        }
        return false;
    }

    void countSkipped(long bytes) {
        LONG_HANDLE.getAndAdd(ring, (long) SKIPPED_CLAIMS_OFFSET, 1L);
        LONG_HANDLE.getAndAdd(ring, (long) SKIPPED_BYTES_OFFSET, bytes);
    }

    /**
     * Registers the consumer, taking the place of a dead one (whose unfinished batch it completes: the
     * ring resumes at the last consumed position).
     *
     * @throws IllegalStateException if a live consumer is registered
     */
    public RingConsumer consumer() {
        return consumer(DEFAULT_DEAD_CLAIM_GRACE);
    }

    /**
     * As {@link #consumer()}, with the time a claim may stay unfinished before the consumer asks
     * whether its producer is alive (a live producer's claim is never taken, however long it takes).
     */
    public RingConsumer consumer(Duration deadClaimGrace) {
        if (deadClaimGrace.isNegative()) {
            throw new IllegalArgumentException("the grace period cannot be negative: " + deadClaimGrace);
        }
        long self = Liveness.self(platform);
        while (true) {
            long stamp = (long) LONG_HANDLE.getVolatile(ring, (long) CONSUMER_OFFSET);
            if (stamp != 0 && (stamp == self || liveness.alive(stamp))) {
                throw new IllegalStateException("the ring at offset " + root + " of " + region.name() + " has a consumer already: pid "
                    + ProcessStamp.pid(stamp) + (stamp == self ? " (this process)" : ", alive"));
            }
            if (LONG_HANDLE.compareAndSet(ring, (long) CONSUMER_OFFSET, stamp, self)) {
                break;
            }
        }
        // a dead consumer may have been zeroing a batch it had handled: finish it
        long head = (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_OFFSET);
        long intent = (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_INTENT_OFFSET);
        if (intent > head) {
            RingConsumer.zero(buffer, head & (capacity - 1), intent - head);
            LONG_HANDLE.setOpaque(ring, (long) CONSUMED_OFFSET, (long) LONG_HANDLE.getAcquire(ring, (long) CONSUMED_INTENT_OFFSET));
            LONG_HANDLE.setRelease(ring, (long) HEAD_OFFSET, intent); // after the zeroes and the count
        } else if (intent < head) {
            LONG_HANDLE.setRelease(ring, (long) HEAD_INTENT_OFFSET, head);
        }
        INT_HANDLE.setVolatile(ring, (long) SLEEPING_OFFSET, 0); // a dead sleeper's flag
        return new RingConsumer(this, self, deadClaimGrace.toNanos());
    }

    long entry(int index) {
        return PRODUCERS_OFFSET + (long) ENTRY_SIZE * index;
    }

    // ---------------------------------------------------------------- facts

    /** {@return the data offset of the ring's root} */
    public long offset() {
        return root;
    }

    public Kind kind() {
        return kind;
    }

    /** {@return the buffer's size in bytes} */
    public long capacity() {
        return capacity;
    }

    /** {@return the largest payload a message may have} */
    public int maxMessageLength() {
        return maxMessage;
    }

    public int maxProducers() {
        return maxProducers;
    }

    /** {@return the region the ring lives in} */
    public SharedRegion region() {
        return region;
    }

    /** {@return the bytes the ring takes in its region} */
    public long footprint() {
        return ring.byteSize();
    }

    /** {@return a snapshot of the ring for tools; reads only} */
    public RingState state() {
        long tail = (long) LONG_HANDLE.getVolatile(ring, (long) TAIL_OFFSET);
        long head = (long) LONG_HANDLE.getVolatile(ring, (long) HEAD_OFFSET);
        long produced = (long) LONG_HANDLE.getVolatile(ring, (long) RETIRED_PRODUCED_OFFSET);
        List<ProcessInfo> producers = new ArrayList<>();
        for (int i = 0; i < maxProducers; i++) {
            long e = entry(i);
            long stamp = (long) LONG_HANDLE.getVolatile(ring, e + ENTRY_STAMP_OFFSET);
            produced += (long) LONG_HANDLE.getVolatile(ring, e + ENTRY_COMMITTED_OFFSET);
            if (stamp != 0) {
                producers.add(ProcessStamp.info(platform, stamp, 0));
            }
        }
        long consumerStamp = (long) LONG_HANDLE.getVolatile(ring, (long) CONSUMER_OFFSET);
        return new RingState(kind == Kind.ONE_TO_ONE ? "one-to-one" : "many-to-one", capacity, maxMessage, tail, head,
            Math.max(0, tail - head), produced, (long) LONG_HANDLE.getVolatile(ring, (long) CONSUMED_OFFSET), List.copyOf(producers),
            maxProducers, consumerStamp == 0 ? null : ProcessStamp.info(platform, consumerStamp, 0),
            (long) LONG_HANDLE.getVolatile(ring, (long) SKIPPED_CLAIMS_OFFSET), (long) LONG_HANDLE.getVolatile(ring, (long) SKIPPED_BYTES_OFFSET),
            (int) INT_HANDLE.getVolatile(ring, (long) SLEEPING_OFFSET), (long) LONG_HANDLE.getVolatile(ring, (long) WAKE_CALLS_OFFSET));
    }

    /**
     * {@return the state of the message ring or broadcast buffer at data offset {@code offset}},
     * whichever is there; reads only (a read-only region will do).
     */
    public static RingState inspect(SharedRegion region, long offset) {
        MemorySegment data = region.segment();
        if (offset >= 0 && offset % ROOT_ALIGNMENT == 0 && offset <= data.byteSize() - ROOT_ALIGNMENT
            && (long) LONG_HANDLE.getAcquire(data, offset) == BROADCAST_MAGIC) {
            return BroadcastTransmitter.state(region, offset);
        }
        return attach(region, offset).state();
    }

    @Override
    public String toString() {
        return "Ring[" + kind + ", " + capacity + " bytes at offset " + root + " of " + region.name() + "]";
    }
}
