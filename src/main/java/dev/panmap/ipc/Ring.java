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
    public enum Kind {
        /** One producer at a time. */
        ONE_TO_ONE,
        /** Any number of producers, up to the ring's producer entries. */
        MANY_TO_ONE
    }

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
        this.liveness = new Liveness(region, platform);
    }

    /**
     * Creates a one-to-one ring, or a many-to-one ring with {@link RingLayout#DEFAULT_PRODUCERS} producer entries.
     *
     * @param region the region it lives in
     * @param offset its data offset in the region (128-aligned)
     * @param kind one-to-one or many-to-one
     * @param capacity buffer bytes, a power of two of at least 1024
     * @return the ring
     */
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
     * @param region the region it lives in
     * @param offset its data offset in the region (128-aligned)
     * @param kind one-to-one or many-to-one
     * @return the ring
     */
    public static Ring create(SharedRegion region, long offset, Kind kind, long capacity, int maxProducers) {
        return create(region, offset, kind, capacity, maxProducers, true);
    }

    /**
     * As {@link #create(SharedRegion, long, Kind, long, int)}; {@code zeroBuffer} false leaves the
     * buffer as it is, which is right only when its bytes are known to be zero (a region just
     * created): a 60 GB ring is then not written through, and its pages are backed only as they are
     * first used.
     *
     * @param region the region it lives in
     * @param offset its data offset in the region (128-aligned)
     * @param kind one-to-one or many-to-one
     * @param capacity buffer bytes, a power of two of at least 1024
     * @param maxProducers producer entries (1 for {@code ONE_TO_ONE})
     * @param zeroBuffer whether to zero the buffer
     * @return the ring
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
     *
     * @param region the region it lives in
     * @param offset its data offset in the region
     * @return the ring
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

    /**
     * Registers a producer with signalling on (it wakes a consumer that sleeps in {@link RingConsumer#await}).
     *
     * @return the producer; close it to give its entry back
     */
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
     * @return the producer; close it to give its entry back
     */
    public RingProducer producer(boolean signalling) {
        long self = Liveness.self(platform);
        for (int i = 0; i < maxProducers; i++) {
            long lock = entryLock(i);
            if (!liveness.take(lock)) {
                if (kind == Kind.ONE_TO_ONE) {
                    long stamp = (long) LONG_HANDLE.getVolatile(ring, entry(i) + ENTRY_STAMP_OFFSET);
                    throw new IllegalStateException("the one-to-one ring at offset " + root + " of " + region.name()
                        + " has a producer already: pid " + ProcessStamp.pid(stamp) + ", alive (its entry's lock byte is held)");
                }
                continue;
            }
            boolean adopted = false;
            try {
                adopted = adopt(i, self);
            } finally {
                if (!adopted) {
                    liveness.release(lock);
                }
            }
            if (adopted) {
                return new RingProducer(this, i, signalling);
            }
        }
        throw new IllegalStateException("all " + maxProducers + " producer entries of the ring at offset " + root + " of "
            + region.name() + " are taken by live producers (or by dead ones whose last claims are not consumed yet)");
    }

    /** {@return the lock byte of producer entry {@code index}} */
    long entryLock(int index) {
        return lockByte(root, entry(index));
    }

    /**
     * Makes entry {@code index}, whose lock this process has just taken, its own: whatever its stamp
     * says, its last holder is gone. A many-to-one entry whose last claim the consumer has not passed is
     * left to the consumer (which resolves it now that the lock is free again); a one-to-one producer
     * finishes its dead predecessor's claim. {@return whether the entry is now this process's}
     */
    private boolean adopt(int index, long self) {
        long e = entry(index);
        long previous = (long) LONG_HANDLE.getVolatile(ring, e + ENTRY_STAMP_OFFSET);
        if (previous != 0) {
            long start = ring.get(LONG, e + ENTRY_CLAIM_START_OFFSET);
            long end = ring.get(LONG, e + ENTRY_CLAIM_END_OFFSET);
            if (end > (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_OFFSET)) {
                if (kind == Kind.MANY_TO_ONE) {
                    return false; // its claim may still be pending: the consumer resolves it, other entries serve
                }
                finishDeadClaim(index, start, end);
            }
            long committed = (long) LONG_HANDLE.getAcquire(ring, e + ENTRY_COMMITTED_OFFSET);
            LONG_HANDLE.getAndAdd(ring, (long) RETIRED_PRODUCED_OFFSET, committed);
            LONG_HANDLE.setRelease(ring, e + ENTRY_COMMITTED_OFFSET, 0L);
        }
        LONG_HANDLE.setRelease(ring, e + ENTRY_STAMP_OFFSET, self); // over a dead producer's stamp, if any
        return true;
    }

    /**
     * One-to-one: the dead producer's claim {@code [start, end)}, not yet consumed. It stored its
     * intent, then its claim header, then the tail, then its wrap padding (FORMAT.md §10.5). If the
     * tail never moved, nothing of it can have been consumed: its claim header is erased and this
     * producer starts at the tail. If it did, the claim becomes padding, with the wrap padding it may
     * not have written: by compare-and-set, as the consumer may be doing the same (it saw the entry's
     * lock free before this process took it); one of them counts it.
     */
    private void finishDeadClaim(int index, long start, long end) {
        long headerIndex = claimHeaderIndex(start, end);
        long tail = (long) LONG_HANDLE.getAcquire(ring, (long) TAIL_OFFSET);
        if (tail == start) {
            long h = (long) LONG_HANDLE.getVolatile(buffer, headerIndex);
            if (length(h) < 0 && type(h) == index) {
                LONG_HANDLE.compareAndSet(buffer, headerIndex, h, 0L); // unpublished: never consumed, never padded
            }
            return;
        }
        if (tail != end) {
            return; // not this claim's (the tail moved on since): nothing of it is pending
        }
        padDeadClaim(headerIndex == 0 && (start & (capacity - 1)) != 0 ? start + capacity - (start & (capacity - 1)) : start, headerIndex, index);
        long startIndex = start & (capacity - 1);
        if (headerIndex != startIndex) {
            padUnwritten(start, header((int) (capacity - startIndex), PADDING_TYPE));
        }
    }

    /**
     * Stores {@code padding} at position {@code position} if its header word is still 0. The word may
     * be 0 because the consumer padded it (it saw the producer dead), consumed it and zeroed it: its
     * head intent, stored before its zeroes, then covers the position, and this padding, left behind
     * the head, is taken back.
     */
    private void padUnwritten(long position, long padding) {
        long index = position & (capacity - 1);
        if (LONG_HANDLE.compareAndSet(buffer, index, 0L, padding)) {
            if ((long) LONG_HANDLE.getVolatile(ring, (long) HEAD_INTENT_OFFSET) > position) {
                LONG_HANDLE.compareAndSet(buffer, index, padding, 0L);
            } else {
                countSkipped(position, align(length(padding)), -1);
            }
        }
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
    boolean padDeadClaim(long position, long index, int tag) {
        long h = (long) LONG_HANDLE.getVolatile(buffer, index);
        int length = length(h);
        if (length >= 0 || type(h) != tag) {
            return false;
        }
        long padding = header(-length, PADDING_TYPE);
        if (LONG_HANDLE.compareAndSet(buffer, index, h, padding)) {
            countSkipped(position, align(-length), tag);
            return true;
        }
        return false;
    }

    /**
     * Counts a skipped claim of {@code bytes} at ring position {@code position} and records it for the
     * Flight Recorder ({@code dev.panmap.RingClaimSkipped}) with the pid in producer entry {@code tag}'s
     * stamp (information only; {@code tag} -1 when no entry is known, as for an unwritten gap).
     */
    void countSkipped(long position, long bytes, int tag) {
        LONG_HANDLE.getAndAdd(ring, (long) SKIPPED_CLAIMS_OFFSET, 1L);
        LONG_HANDLE.getAndAdd(ring, (long) SKIPPED_BYTES_OFFSET, bytes);
        dev.panmap.internal.Events.ringClaimSkipped(region.name(), root, position, bytes, tag < 0 ? 0 : entryPid(tag));
    }

    /**
     * Registers the consumer, taking the place of a dead one (whose unfinished batch it completes: the
     * ring resumes at the last consumed position).
     *
     * @throws IllegalStateException if a live consumer is registered
     * @return the consumer; close it to let another register
     */
    public RingConsumer consumer() {
        return consumer(DEFAULT_DEAD_CLAIM_GRACE);
    }

    /**
     * As {@link #consumer()}, with the time a claim may stay unfinished before the consumer asks
     * whether its producer is alive (a live producer's claim is never taken, however long it takes).
     *
     * @param deadClaimGrace how long a claim may stay unfinished before its producer's life is asked
     * @return the consumer; close it to let another register
     */
    public RingConsumer consumer(Duration deadClaimGrace) {
        if (deadClaimGrace.isNegative()) {
            throw new IllegalArgumentException("the grace period cannot be negative: " + deadClaimGrace);
        }
        long self = Liveness.self(platform);
        long lock = lockByte(root, CONSUMER_OFFSET);
        if (!liveness.take(lock)) {
            long stamp = (long) LONG_HANDLE.getVolatile(ring, (long) CONSUMER_OFFSET);
            throw new IllegalStateException("the ring at offset " + root + " of " + region.name() + " has a consumer already: pid "
                + ProcessStamp.pid(stamp) + (stamp == self ? " (this process)" : ", alive") + " (the consumer's lock byte is held)");
        }
        try {
            // a dead consumer may have been zeroing a batch it had handled: finish it, with its count
            long head = (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_OFFSET);
            long intent = (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_INTENT_OFFSET);
            if (intent != head) {
                long index = head & (capacity - 1);
                long bytes = intent - head;
                if (intent < head || bytes > capacity - index || bytes % RECORD_ALIGNMENT != 0 || head < 0) {
                    throw new RegionException(ErrorKind.CORRUPT_REGION, this + " is damaged: head " + head + ", head intent " + intent
                        + " (a batch ends within the lap it starts in, 8-aligned)");
                }
                RingConsumer.zero(buffer, index, bytes);
                LONG_HANDLE.setOpaque(ring, (long) CONSUMED_OFFSET, (long) LONG_HANDLE.getAcquire(ring, (long) CONSUMED_INTENT_OFFSET));
                LONG_HANDLE.setRelease(ring, (long) HEAD_OFFSET, intent); // after the zeroes and the count
            }
            INT_HANDLE.setVolatile(ring, (long) SLEEPING_OFFSET, 0); // a dead sleeper's flag
            LONG_HANDLE.setRelease(ring, (long) CONSUMER_OFFSET, self); // over a dead consumer's stamp, if any
        } catch (RuntimeException | Error e) {
            liveness.release(lock);
            throw e;
        }
        return new RingConsumer(this, self, lock, deadClaimGrace.toNanos());
    }

    /** {@return the pid in producer entry {@code tag}'s stamp (0 if none): for tools and events, never for liveness} */
    private int entryPid(int tag) {
        if (tag >= maxProducers) {
            return 0;
        }
        long stamp = (long) LONG_HANDLE.getVolatile(ring, entry(tag) + ENTRY_STAMP_OFFSET);
        return stamp == 0 ? 0 : ProcessStamp.pid(stamp);
    }

    long entry(int index) {
        return PRODUCERS_OFFSET + (long) ENTRY_SIZE * index;
    }

    // ---------------------------------------------------------------- facts

    /** {@return the data offset of the ring's root} */
    public long offset() {
        return root;
    }

    /** {@return one-to-one or many-to-one} */
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

    /** {@return the number of producer entries: how many producers may be registered at once} */
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

    /**
     * {@return the epoch milliseconds of the consumer's last {@link RingConsumer#read}, or 0 if none
     * read yet}: a producer or a tool can tell a consumer that is alive (its lock byte held) but stuck
     * from one that reads. Reads one word: no system call, no allocation.
     */
    public long consumerHeartbeat() {
        return (long) LONG_HANDLE.getOpaque(ring, (long) HEARTBEAT_OFFSET);
    }

    /** {@return the tail: the position up to which producers have claimed} (one load; no allocation) */
    public long tailPosition() {
        return (long) LONG_HANDLE.getAcquire(ring, (long) TAIL_OFFSET);
    }

    /** {@return the head: the position up to which the consumer has released} (one load; no allocation) */
    public long headPosition() {
        return (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_OFFSET);
    }

    /**
     * {@return the bytes claimed and not yet consumed} (two loads: no {@code /proc}, no system call,
     * no allocation; exact when no producer or consumer moves meanwhile, within [0, capacity] always)
     */
    public long size() {
        long head = headPosition();
        long tail = tailPosition();
        return Math.max(0, Math.min(capacity, tail - head));
    }

    /** {@return a snapshot of the ring for tools; reads only (liveness from the lock bytes)} */
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
                producers.add(ProcessStamp.info(stamp, 0, liveness.alive(entryLock(i))));
            }
        }
        long consumerStamp = (long) LONG_HANDLE.getVolatile(ring, (long) CONSUMER_OFFSET);
        return new RingState(kind == Kind.ONE_TO_ONE ? "one-to-one" : "many-to-one", capacity, maxMessage, tail, head,
            Math.max(0, tail - head), produced, (long) LONG_HANDLE.getVolatile(ring, (long) CONSUMED_OFFSET), List.copyOf(producers),
            maxProducers, consumerStamp == 0 ? null : ProcessStamp.info(consumerStamp, 0, liveness.alive(lockByte(root, CONSUMER_OFFSET))),
            (long) LONG_HANDLE.getVolatile(ring, (long) SKIPPED_CLAIMS_OFFSET), (long) LONG_HANDLE.getVolatile(ring, (long) SKIPPED_BYTES_OFFSET),
            (int) INT_HANDLE.getVolatile(ring, (long) SLEEPING_OFFSET), (long) LONG_HANDLE.getVolatile(ring, (long) WAKE_CALLS_OFFSET));
    }

    /**
     * {@return the state of the message ring or broadcast buffer at data offset {@code offset}},
     * whichever is there; reads only (a read-only region will do).
     *
     * @param region the region it lives in
     * @param offset the data offset of the ring or broadcast buffer
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
