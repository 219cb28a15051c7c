package dev.panmap.ipc;

import static dev.panmap.ipc.Ring.INT_HANDLE;
import static dev.panmap.ipc.Ring.LONG_HANDLE;
import static dev.panmap.ipc.RingLayout.*;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.internal.TestPoints;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * The consumer of a {@link Ring}: registered in the ring (one at a time, in any process) until
 * {@link #close()}; one thread at a time. Its position is the ring's head, in the region: a consumer
 * that dies and another that registers after it go on from the last position consumed.
 *
 * <p>{@link #read} never blocks and never throws on an empty ring; it also resolves claims of dead
 * producers (see {@link RingLayout}): a claim unfinished for longer than the grace period is checked,
 * and skipped as padding if its producer is dead ({@link #skippedClaims()} counts them ring-wide).
 * {@link #await} sleeps in the kernel until a producer wakes it.
 */
public final class RingConsumer implements AutoCloseable {
    private final Ring owner;
    private final MemorySegment ring;
    private final MemorySegment buffer;
    private final MemorySegment signalWord;
    private final long capacity;
    private final long mask;
    private final long self;
    private final long lock;
    private final long graceNanos;
    private final int maxMessage;
    private long head;
    private long consumed;
    private long suspectPosition = -1;
    private long suspectSince;
    /** The wait before the next liveness check of the claim at {@code suspectPosition}: doubles after each "alive". */
    private long suspectWait;
    private int emptyReads;
    private long livenessChecks;
    private long beat;
    /** A damaged header the last batch stopped at, 0 if none (see {@link #committedHeader}). */
    private long damaged;
    private long blockedPosition = -1;
    private long blockedSince;
    private boolean closed;

    RingConsumer(Ring owner, long self, long lock, long graceNanos) {
        this.owner = owner;
        this.ring = owner.ring;
        this.buffer = owner.buffer;
        this.signalWord = ring.asSlice(SIGNAL_OFFSET, 4);
        this.capacity = owner.capacity;
        this.mask = owner.capacity - 1;
        this.self = self;
        this.lock = lock;
        this.graceNanos = graceNanos;
        this.maxMessage = owner.maxMessage;
        this.head = (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_OFFSET);
        this.consumed = (long) LONG_HANDLE.getAcquire(ring, (long) CONSUMED_OFFSET);
    }

    /**
     * Reads up to {@code limit} messages.
     *
     * @param handler what each message is handed to
     * @param limit the most messages to read
     * @return how many were handed to the handler
     * @throws RegionException {@link ErrorKind#CORRUPT_REGION} for a damaged record at the head (a
     *         length or type no producer writes), before its handler sees it; the messages before it
     *         are consumed, the head stays at it
     */
    public int read(MessageHandler handler, int limit) {
        begin();
        // an empty poll (nothing committed at the head) does not enter batch: batch's profile then
        // counts only reads that hand out messages, and C2 inlines the handler there (a profile of
        // mostly empty polls made its call look rare: "already compiled into a medium method")
        if ((int) (long) LONG_HANDLE.getAcquire(buffer, head & mask) <= 0 && !resolveStuck(head, head & mask)) {
            return 0;
        }
        int count = 0;
        int idle = 0;
        while (true) {
            int n = batch(handler, limit - count);
            if (n >= 0) {
                return count + n;
            }
            // the batch stopped at the end of the buffer, or past a dead claim: there may be more
            count += -1 - n;
            // a batch of padding alone 64 times in a row: a flood no producer writes; end with what there is
            idle = n == -1 ? idle + 1 : 0;
            if (count >= limit || idle >= MAX_SKIPS) {
                return count;
            }
        }
    }

    /**
     * One batch, up to the end of the buffer. {@return the messages read, or {@code -1 - n} when the
     * batch reached the end of the buffer (or skipped a dead claim) with room for more}
     */
    private int batch(MessageHandler handler, int limit) {
        long h0 = head;
        long headIndex = h0 & mask;
        long contiguous = capacity - headIndex;
        long bytes = 0;
        int count = 0;
        try {
            while (bytes < contiguous && count < limit) {
                long index = headIndex + bytes;
                long h = committedHeader(index, contiguous - bytes);
                if (h == 0) {
                    break;
                }
                int length = (int) h;
                int type = (int) (h >>> 32);
                bytes += align(length);
                if (type != PADDING_TYPE) {
                    count++;
                    handler.onMessage(type, buffer, index + HEADER_LENGTH, length - HEADER_LENGTH);
                }
            }
        } finally {
            if (bytes > 0) {
                release(h0, headIndex, bytes, count);
            }
        }
        if (damaged != 0) {
            throw damagedRecord(h0 + bytes, contiguous - bytes);
        }
        if (bytes == 0) {
            return resolveStuck(h0, headIndex) ? -1 : 0; // a dead producer's claim became padding: read on
        }
        return bytes == contiguous && count < limit ? -1 - count : count;
    }

    /**
     * Reads up to {@code limit} messages, the handler steering the read with each
     * ({@link ControlledMessageHandler.Action}): {@code CONTINUE}; {@code BREAK} (stop after it);
     * {@code COMMIT} (give back everything read so far now, then go on: a long read frees room for
     * the producers as it goes); {@code ABORT} (stop before it: the next read hands it out again). A
     * handler that throws leaves its message unconsumed too; the ones before it are consumed.
     *
     * @param handler what each message is handed to, and steers the read
     * @param limit the most messages to read
     * @return how many messages were consumed
     * @throws RegionException {@link ErrorKind#CORRUPT_REGION} as {@link #read}
     */
    public int controlledRead(ControlledMessageHandler handler, int limit) {
        begin();
        int count = 0;
        int idle = 0;
        while (count < limit) {
            long h0 = head;
            long headIndex = h0 & mask;
            long contiguous = capacity - headIndex;
            long bytes = 0;
            int n = 0;
            ControlledMessageHandler.Action last = ControlledMessageHandler.Action.CONTINUE;
            try {
                while (bytes < contiguous && count + n < limit && last == ControlledMessageHandler.Action.CONTINUE) {
                    long index = headIndex + bytes;
                    long h = committedHeader(index, contiguous - bytes);
                    if (h == 0) {
                        break;
                    }
                    int length = (int) h;
                    int type = (int) (h >>> 32);
                    long aligned = align(length);
                    if (type == PADDING_TYPE) {
                        bytes += aligned;
                        continue;
                    }
                    last = handler.onMessage(type, buffer, index + HEADER_LENGTH, length - HEADER_LENGTH);
                    if (last != ControlledMessageHandler.Action.ABORT) {
                        bytes += aligned;
                        n++;
                    }
                }
            } finally {
                if (bytes > 0) {
                    release(h0, headIndex, bytes, n);
                }
            }
            count += n;
            if (damaged != 0) {
                throw damagedRecord(h0 + bytes, contiguous - bytes);
            }
            switch (last) {
                case ABORT, BREAK -> {
                    return count;
                }
                case COMMIT -> {
                    continue;
                }
                default -> { }
            }
            if (bytes == 0) {
                if (!resolveStuck(h0, headIndex)) {
                    return count;
                }
            } else if (bytes < contiguous) {
                return count; // the ring is empty after these, or the limit was reached
            }
            idle = n == 0 ? idle + 1 : 0; // past the end of the buffer, or a dead claim: read on, a padding flood bounded
            if (idle >= MAX_SKIPS) {
                return count;
            }
        }
        return count;
    }

    /**
     * {@return the committed header at buffer index {@code index} (length &gt; 0), or 0 if nothing is
     * committed there or the record is damaged}: its length (8 to the largest message + 8, within
     * {@code room}, the rest of the lap) and type (≥ 1, or -1) are checked before any handler sees it
     * and before any position moves; a damaged header is kept in {@link #damaged} for the caller to
     * throw after it has released what it read before.
     */
    private long committedHeader(long index, long room) {
        long h = (long) LONG_HANDLE.getAcquire(buffer, index);
        int length = (int) h;
        if (length <= 0) {
            return 0;
        }
        int type = (int) (h >>> 32);
        if (length < HEADER_LENGTH || align(length) > room || (type != PADDING_TYPE && (type < 1 || length - HEADER_LENGTH > maxMessage))) {
            damaged = h;
            return 0;
        }
        return h;
    }

    private RegionException damagedRecord(long position, long room) {
        long h = damaged;
        damaged = 0;
        return new RegionException(ErrorKind.CORRUPT_REGION, owner + " is damaged: the record at position " + position
            + " has length " + length(h) + " and type " + type(h) + " (a record takes 8 to " + (maxMessage + HEADER_LENGTH)
            + " bytes, here at most " + room + " before the end of the buffer, and its type is >= 1, or -1 for padding)");
    }

    /** The start of a read: refused when closed; the heartbeat says this consumer reads (at most one store a millisecond). */
    private void begin() {
        if (closed) {
            throw closedConsumer();
        }
        long now = System.currentTimeMillis();
        if (now != beat) {
            beat = now;
            LONG_HANDLE.setOpaque(ring, (long) HEARTBEAT_OFFSET, now);
        }
    }

    private static IllegalStateException closedConsumer() {
        return new IllegalStateException("consumer is closed");
    }

    /**
     * Reads everything there is, in batches of up to 1024.
     *
     * @param handler what each message is handed to
     * @return how many messages
     */
    public int read(MessageHandler handler) {
        int total = 0;
        for (int n; (n = read(handler, 1024)) > 0; ) {
            total += n;
        }
        return total;
    }

    /**
     * Gives a handled batch back, crash-consistently: the count after the batch (consumed intent),
     * then the head intent, before any byte is zeroed; then the count and the head. A consumer that
     * dies anywhere in between leaves head intent &gt; head, and its successor finishes the batch with
     * both the count and the head ({@link Ring#consumer}); one that dies before the head intent's
     * store leaves the old batch unreleased and both positions as they were.
     */
    private void release(long h0, long headIndex, long bytes, int count) {
        long h1 = h0 + bytes;
        long c1 = consumed + count;
        LONG_HANDLE.setOpaque(ring, (long) CONSUMED_INTENT_OFFSET, c1);
        LONG_HANDLE.setRelease(ring, (long) HEAD_INTENT_OFFSET, h1); // after the count's intent; a successor finishes from here
        VarHandle.storeStoreFence(); // the intents before any zero
        TestPoints.hit("ringConsumer.intents");
        zero(buffer, headIndex, bytes);
        consumed = c1;
        LONG_HANDLE.setOpaque(ring, (long) CONSUMED_OFFSET, c1);
        TestPoints.hit("ringConsumer.counted");
        LONG_HANDLE.setRelease(ring, (long) HEAD_OFFSET, h1); // after the zeroes and the count
        head = h1;
        suspectPosition = -1;
        emptyReads = 0;
        if ((int) INT_HANDLE.getOpaque(ring, (long) PRODUCERS_WAITING_OFFSET) != 0) {
            wakeProducers();
        }
    }

    /**
     * Producers said they wait for room: clear the flag, change the word, wake them all. No fence
     * pairs this load with their flag's store: a wake-up missed here costs a waiting producer at most
     * its 1 ms sleep (FORMAT.md §10.5).
     */
    private void wakeProducers() {
        INT_HANDLE.setVolatile(ring, (long) PRODUCERS_WAITING_OFFSET, 0);
        INT_HANDLE.getAndAdd(ring, (long) SPACE_SIGNAL_OFFSET, 1);
        owner.platform.wakeAddress(ring.asSlice(SPACE_SIGNAL_OFFSET, 4), Integer.MAX_VALUE);
        LONG_HANDLE.getAndAdd(ring, (long) SPACE_WAKE_CALLS_OFFSET, 1L);
    }

    /** A page of zeros to copy from: zeroing a batch allocates nothing (a slice per batch would). */
    private static final MemorySegment ZEROS = java.lang.foreign.Arena.global().allocate(4096, 8);

    /** Zeroes {@code bytes} of {@code segment} from {@code offset} (8-aligned), by copies of {@link #ZEROS}. */
    static void zero(MemorySegment segment, long offset, long bytes) {
        while (bytes > 0) {
            long n = Math.min(bytes, ZEROS.byteSize());
            MemorySegment.copy(ZEROS, 0, segment, offset, n);
            offset += n;
            bytes -= n;
        }
        TestPoints.hit("ringConsumer.zeroed"); // here, not in release: whatever stores a release puts around its zeroes
    }

    // ------------------------------------------------------------------ dead producers

    /** Nothing was read at {@code h0}: an empty ring, a claim in progress, or one a dead producer left. */
    private boolean resolveStuck(long h0, long headIndex) {
        long h = (long) LONG_HANDLE.getAcquire(buffer, headIndex);
        int length = (int) h;
        if (length < 0) {
            if (suspect(h0)) {
                int tag = checkedClaim(h0, headIndex, h);
                livenessChecks++;
                // below the tail only (a one-to-one claim whose tail store never came is not published)
                if ((long) LONG_HANDLE.getAcquire(ring, (long) TAIL_OFFSET) > h0 && !owner.liveness.alive(owner.entryLock(tag))
                    && owner.padDeadClaim(h0, headIndex, tag)) {
                    return true;
                }
                stillAlive(); // ask again later
            }
        } else if (length == 0) {
            if ((int) INT_HANDLE.getOpaque(ring, (long) PRODUCERS_WAITING_OFFSET) != 0) {
                wakeProducers();
            }
            if ((++emptyReads & 63) == 0) {
                long tail = (long) LONG_HANDLE.getAcquire(ring, (long) TAIL_OFFSET);
                if (tail == h0) {
                    suspectPosition = -1; // empty
                } else if (suspect(h0)) {
                    if (resolveGap(h0, headIndex, tail)) {
                        return true;
                    }
                    stillAlive();
                }
            }
        }
        return false;
    }

    /** {@return the producer entry a claimed header {@code h} at the head names}, after checking it and its length */
    private int checkedClaim(long h0, long headIndex, long h) {
        int tag = type(h);
        long length = -(long) length(h);
        if (tag < 0 || tag >= owner.maxProducers || length < HEADER_LENGTH || align(length) > capacity - headIndex) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, owner + " is damaged: the claim at position " + h0
                + " names producer entry " + tag + " of " + owner.maxProducers + " and " + length + " bytes ("
                + (capacity - headIndex) + " to the end of the buffer)");
        }
        return tag;
    }

    /**
     * Takes the claim at the head from its producer, alive or not, once it has stayed unfinished for
     * {@code timeout} (counted from the first call that saw it): for a claim a thread of a live process
     * left (it died, or hangs for good), which no liveness check can tell from a slow one. The claim
     * becomes padding, counted as skipped; its producer's late {@link RingProducer#commit} is refused.
     * A range whose claim header was never stored (a thread lost between a compare-and-set of the
     * tail and its next store, where no user code runs) is not taken: only its process's death frees it.
     *
     * @return whether a claim was taken (then {@link #read} goes on past it)
     * @param timeout how long the claim at the head must have stayed unfinished
     */
    public boolean unblock(java.time.Duration timeout) {
        if (closed) {
            throw closedConsumer();
        }
        long h0 = head;
        long headIndex = h0 & mask;
        long h = (long) LONG_HANDLE.getAcquire(buffer, headIndex);
        if (length(h) >= 0 || (long) LONG_HANDLE.getAcquire(ring, (long) TAIL_OFFSET) <= h0) {
            blockedPosition = -1;
            return false;
        }
        int tag = checkedClaim(h0, headIndex, h);
        long now = System.nanoTime();
        if (blockedPosition != h0) {
            blockedPosition = h0;
            blockedSince = now;
        }
        if (now - blockedSince < timeout.toNanos()) {
            return false;
        }
        blockedPosition = -1;
        return owner.padDeadClaim(h0, headIndex, tag);
    }

    /** {@return whether the record at {@code position} has been unfinished for the grace period (or the back-off after it)} */
    private boolean suspect(long position) {
        long now = System.nanoTime();
        if (suspectPosition != position) {
            suspectPosition = position;
            suspectSince = now;
            suspectWait = graceNanos;
            return graceNanos == 0;
        }
        return now - suspectSince >= suspectWait;
    }

    /**
     * The claim's producer is alive (or the gap's owner unknown): wait twice as long before asking
     * again, up to a second. A liveness check is a system call ({@code F_OFD_GETLK}); a producer
     * descheduled for long on a busy machine must not make the consumer ask at every grace period.
     */
    private void stillAlive() {
        suspectSince = System.nanoTime();
        suspectWait = Math.min(Math.max(2 * suspectWait, 1_000_000), 1_000_000_000);
    }

    /**
     * A zero header below the tail: a producer took the range with its compare-and-set and has not
     * written its header. If every entry whose intent holds {@code h0} is dead, the range up to the
     * next record (or intent, or the end of the lap, or the tail) becomes padding.
     */
    private boolean resolveGap(long h0, long headIndex, long tail) {
        boolean claimed = false;
        long nextIntent = Long.MAX_VALUE;
        for (int i = 0; i < owner.maxProducers; i++) {
            long e = owner.entry(i);
            long stamp = (long) LONG_HANDLE.getVolatile(ring, e + ENTRY_STAMP_OFFSET);
            if (stamp == 0) {
                continue;
            }
            long start = ring.get(Ring.LONG, e + ENTRY_CLAIM_START_OFFSET);
            long end = ring.get(Ring.LONG, e + ENTRY_CLAIM_END_OFFSET);
            if (start <= h0 && h0 < end) {
                livenessChecks++;
                if (owner.liveness.alive(owner.entryLock(i))) {
                    return false; // its owner may be about to write it
                }
                claimed = true;
            } else if (start > h0) {
                nextIntent = Math.min(nextIntent, start);
            }
        }
        if (!claimed) {
            return false; // no entry holds it: nothing to decide on
        }
        long limit = Math.min(Math.min(tail, h0 - headIndex + capacity), nextIntent);
        long p = h0 + HEADER_LENGTH;
        while (p < limit && (long) LONG_HANDLE.getAcquire(buffer, p & mask) == 0) {
            p += RECORD_ALIGNMENT;
        }
        long gap = p - h0;
        if (gap > Integer.MAX_VALUE - RECORD_ALIGNMENT) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, owner + " is damaged: an unwritten gap of " + gap
                + " bytes at position " + h0);
        }
        if (LONG_HANDLE.compareAndSet(buffer, headIndex, 0L, header((int) gap, PADDING_TYPE))) {
            owner.countSkipped(h0, gap, -1);
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Sleeps until a message is ready at the head, a producer wakes it, or {@code timeoutNanos} pass
     * (negative: no limit). Producers with signalling on wake it with a futex wake made only when the
     * consumer says it sleeps. While the record at the head is an unfinished claim, the sleep is
     * capped at the grace period so that a dead producer's claim is still resolved by {@link #read}.
     * The sleep is a native call: a virtual thread sleeping here pins its carrier thread throughout;
     * on virtual threads poll with {@link IdleStrategy#backoff()}, which parks, instead.
     *
     * @return whether a message (or padding) is ready to read
     * @param timeoutNanos the longest sleep, in nanoseconds; negative: no limit
     */
    public boolean await(long timeoutNanos) {
        if (ready()) {
            return true;
        }
        long h = (long) LONG_HANDLE.getAcquire(buffer, head & mask);
        if (h != 0 || (long) LONG_HANDLE.getAcquire(ring, (long) TAIL_OFFSET) != head) {
            long cap = Math.max(graceNanos, 1_000_000);
            timeoutNanos = timeoutNanos < 0 ? cap : Math.min(timeoutNanos, cap);
        }
        INT_HANDLE.setVolatile(ring, (long) SLEEPING_OFFSET, 1);
        VarHandle.fullFence(); // pairs with the producer's fence after its commit
        try {
            int epoch = (int) INT_HANDLE.getVolatile(ring, (long) SIGNAL_OFFSET);
            if (ready()) {
                return true;
            }
            owner.platform.waitOnAddress(signalWord, epoch, timeoutNanos);
        } finally {
            INT_HANDLE.setOpaque(ring, (long) SLEEPING_OFFSET, 0);
        }
        return ready();
    }

    private boolean ready() {
        return (int) (long) LONG_HANDLE.getAcquire(buffer, head & mask) > 0;
    }

    /**
     * An idle strategy for a loop around {@link #read}: spins {@code spins} empty polls, then sleeps
     * in {@link #await} for at most {@code maxSleepNanos} at a time.
     *
     * @param spins how many empty polls to spin before sleeping
     * @param maxSleepNanos the longest sleep at a time, in nanoseconds
     * @return the idle strategy, for this consumer's thread
     */
    public IdleStrategy blockingIdle(int spins, long maxSleepNanos) {
        return new IdleStrategy() {
            private int idle;

            @Override
            public void idle(int workCount) {
                if (workCount > 0) {
                    idle = 0;
                } else if (idle < spins) {
                    idle++;
                    Thread.onSpinWait();
                } else {
                    await(maxSleepNanos);
                }
            }

            @Override
            public void reset() {
                idle = 0;
            }
        };
    }

    // ------------------------------------------------------------------ facts

    /** {@return the position consumed up to} */
    public long position() {
        return head;
    }

    /** {@return the messages consumed through this ring, by every consumer it had} */
    public long consumed() {
        return consumed;
    }

    /**
     * {@return how many times this consumer asked whether a producer was alive} (each is one
     * {@code F_OFD_GETLK}: it happens only for a claim unfinished past the grace period)
     */
    public long livenessChecks() {
        return livenessChecks;
    }

    /** {@return the claims of dead producers skipped as padding, ring-wide} */
    public long skippedClaims() {
        return (long) LONG_HANDLE.getVolatile(ring, (long) SKIPPED_CLAIMS_OFFSET);
    }

    /** {@return the ring} */
    public Ring ring() {
        return owner;
    }

    /** Leaves the ring's consumer place: clears its stamp, then lets its lock byte go. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (!owner.region.isClosed()) { // closed: the lock went with the descriptor, the stamp is a dead consumer's
                LONG_HANDLE.compareAndSet(ring, (long) CONSUMER_OFFSET, self, 0L);
            }
            owner.liveness.release(lock);
        }
    }
}
