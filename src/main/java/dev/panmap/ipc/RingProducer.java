package dev.panmap.ipc;

import static dev.panmap.ipc.Ring.INT_HANDLE;
import static dev.panmap.ipc.Ring.LONG_HANDLE;
import static dev.panmap.ipc.RingLayout.*;

import dev.panmap.internal.TestPoints;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A producer of a {@link Ring}: holds one entry of the ring's producer table until {@link #close()}.
 * One thread at a time; one open claim at a time.
 *
 * <p>Zero-copy: {@link #tryClaim} hands out {@code length} bytes of {@link #buffer()} at the offset
 * it returns; fill them and {@link #commit} (or {@link #abort}) that offset. {@link #write} does all
 * three from a segment. Nothing is allocated per message, and no call blocks: a full ring is a
 * return value ({@link #FULL}, {@code false}).
 */
public final class RingProducer implements AutoCloseable {
    /** What {@link #tryClaim} returns when the ring has no room now. */
    public static final long FULL = -1;

    private final Ring owner;
    private final MemorySegment ring;
    private final MemorySegment buffer;
    private final long capacity;
    private final long mask;
    private final int maxMessage;
    private final boolean manyToOne;
    private final boolean signalling;
    private final int tag;
    private final long entry;
    /** One-to-one: the tail, which only this producer moves. */
    private long tail;
    /** The head as last read: space below {@code headCache + capacity} is free. */
    private long headCache;
    private long openIndex = -1;
    private int openType;
    private int openLength;
    private long committed;
    private long waits;
    private final MemorySegment spaceWord;
    private boolean closed;
    /** The longest payload a claim may ask for: the ring's largest message, -1 once closed (tryClaim's one test). */
    private int claimLimit;

    RingProducer(Ring owner, int tag, boolean signalling) {
        this.owner = owner;
        this.ring = owner.ring;
        this.buffer = owner.buffer;
        this.capacity = owner.capacity;
        this.mask = owner.capacity - 1;
        this.maxMessage = owner.maxMessage;
        this.manyToOne = owner.kind == Ring.Kind.MANY_TO_ONE;
        this.signalling = signalling;
        this.tag = tag;
        this.entry = owner.entry(tag);
        this.tail = (long) LONG_HANDLE.getVolatile(ring, (long) TAIL_OFFSET);
        this.headCache = (long) LONG_HANDLE.getVolatile(ring, (long) HEAD_OFFSET);
        this.committed = 0;
        this.spaceWord = ring.asSlice(SPACE_SIGNAL_OFFSET, 4);
        this.claimLimit = maxMessage;
    }

    /** {@return the ring's buffer: claims are offsets into it} */
    public MemorySegment buffer() {
        return buffer;
    }

    /**
     * Claims room for a message of {@code length} payload bytes.
     *
     * @param type ≥ 1
     * @return the offset in {@link #buffer()} where the payload goes, or {@link #FULL}
     * @throws IllegalArgumentException for a bad type or length
     * @throws IllegalStateException if a claim is open or the producer is closed
     * @param length the payload's length in bytes, at most the ring's largest message
     */
    public long tryClaim(int type, int length) {
        // one test for type < 1, length < 0, length > the limit (-1 once closed) and a claim open
        // (openIndex >= 0): one branch and one deoptimization point, not five; the reason out of line
        if (((long) type - 1 | length | (long) claimLimit - length | ~openIndex) < 0) {
            throw badClaim(type, length);
        }
        int recordLength = length + HEADER_LENGTH;
        // stored before the claim (they mean nothing until openIndex says a claim is open): type and
        // length are then dead inside the claim, and each of its deoptimization points saves less
        openType = type;
        openLength = recordLength;
        long index = manyToOne ? claimShared(recordLength) : claimOwn(recordLength);
        if (index < 0) {
            return FULL;
        }
        return openIndex = index + HEADER_LENGTH;
    }

    /**
     * Claims room for a message, waiting up to {@code timeout} for the consumer to make room: says it
     * waits (the ring's {@code producers waiting} flag, a full fence), re-checks, and sleeps in the
     * kernel on the ring's space signal, at most 1 ms at a time, until a consumer that moves the head
     * wakes it (FORMAT.md §10.5). The sleep is a native call: a virtual thread sleeping here pins its
     * carrier thread; on virtual threads poll {@link #tryClaim} with an {@link IdleStrategy} instead.
     *
     * @return the offset in {@link #buffer()} where the payload goes, or {@link #FULL} if the timeout passed
     * @param type the message type, at least 1
     * @param length the payload's length in bytes
     * @param timeout the longest wait for room
     */
    public long claim(int type, int length, java.time.Duration timeout) {
        long at = tryClaim(type, length);
        if (at >= 0) {
            return at;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            INT_HANDLE.setVolatile(ring, (long) PRODUCERS_WAITING_OFFSET, 1);
            VarHandle.fullFence(); // the flag before the re-check: pairs with the consumer's head store
            int epoch = (int) INT_HANDLE.getVolatile(ring, (long) SPACE_SIGNAL_OFFSET);
            at = tryClaim(type, length); // re-reads the head when full
            long left = deadline - System.nanoTime();
            if (at >= 0 || left <= 0) {
                return at;
            }
            waits++;
            owner.platform.waitOnAddress(spaceWord, epoch, Math.min(left, 1_000_000L));
        }
    }

    /**
     * As {@link #write(int, MemorySegment)}, waiting up to {@code timeout} for room.
     *
     * @param type the message type, at least 1
     * @param src the payload
     * @param timeout the longest wait for room
     * @return {@code false} if the timeout passed
     */
    public boolean write(int type, MemorySegment src, java.time.Duration timeout) {
        long size = src.byteSize();
        if (size > maxMessage) {
            throw new IllegalArgumentException("message length must be in [0, " + maxMessage + "]: length=" + size);
        }
        long at = claim(type, (int) size, timeout);
        if (at < 0) {
            return false;
        }
        MemorySegment.copy(src, 0, buffer, at, size);
        commit(at);
        return true;
    }

    /** {@return how many times this producer slept waiting for room ({@link #claim(int, int, java.time.Duration)})} */
    public long waits() {
        return waits;
    }

    private RuntimeException badClaim(int type, int length) {
        if (type < 1) {
            return new IllegalArgumentException("message types start at 1: type=" + type);
        }
        if (length < 0 || length > maxMessage) {
            return new IllegalArgumentException("message length must be in [0, " + maxMessage + "]: length=" + length);
        }
        return new IllegalStateException(closed ? "producer is closed" : "a claim is open at offset " + openIndex + ": commit or abort it first");
    }

    /*
     * The claim paths are split so that C2 inlines tryClaim into its caller's loop: the hot methods
     * (claimOwn, claimShared) hold only the common case — the record fits before the end of the
     * buffer, the cached head says there is room and, many-to-one, the tail's compare-and-set wins
     * at once — and everything else (a wrap with its padding, a stale head cache, a full ring, a lost
     * compare-and-set) goes to the *Slow methods, called rarely enough that C2 leaves them out of
     * line. Before the split, tryClaim compiled alone to 4.5 KB of machine code, past InlineSmallCode
     * (2500 bytes), and PrintInlining said "already compiled into a big method" at every call
     * (jmh/results/ring-asm.md). Both paths store exactly what their slow twins store, in the same order.
     */

    /**
     * One-to-one, the common case: the record fits before the end of the buffer and below the cached
     * head. The intent, the claim header, the tail (release). Anything else: {@link #claimOwnSlow}.
     */
    private long claimOwn(int recordLength) {
        long aligned = align(recordLength);
        long t = tail;
        long index = t & mask;
        if (aligned > capacity - index) {
            return claimOwnSlow(recordLength, aligned); // a wrap: padding to the end first
        }
        if (t + aligned - headCache > capacity && t + aligned - refreshHead() > capacity) {
            return -1; // full: a producer spinning on a full ring comes here, not to the slow path
        }
        long claim = header(-recordLength, tag);
        MemorySegment r = ring;
        // plain stores of 8-aligned words (the offsets are): the unaligned layout spares C2 an alignment test each
        r.set(ValueLayout.JAVA_LONG_UNALIGNED, entry + ENTRY_CLAIM_START_OFFSET, t);
        r.set(ValueLayout.JAVA_LONG_UNALIGNED, entry + ENTRY_CLAIM_END_OFFSET, t + aligned);
        LONG_HANDLE.setRelease(buffer, index, claim);
        TestPoints.hit("ringProducer.beforeTail");
        tail = t + aligned;
        LONG_HANDLE.setRelease(r, (long) TAIL_OFFSET, tail);
        TestPoints.hit("ringProducer.afterTail");
        return index;
    }

    /**
     * One-to-one: no other producer, so no atomic instruction: the intent, the claim header, the tail
     * (release), then the wrap padding. Nothing of a claim can be consumed before its tail store, so
     * a producer that dies before it left nothing the consumer acts on (its successor erases the
     * header, {@link Ring#producer}).
     */
    private long claimOwnSlow(int recordLength, long aligned) {
        long t = tail;
        long required = intend(t, aligned);
        if (required < 0) {
            return -1;
        }
        long index = required == aligned ? t & mask : 0;
        LONG_HANDLE.setRelease(buffer, index, header(-recordLength, tag));
        TestPoints.hit("ringProducer.beforeTail");
        tail = t + required;
        LONG_HANDLE.setRelease(ring, (long) TAIL_OFFSET, tail);
        TestPoints.hit("ringProducer.afterTail");
        if (required != aligned) {
            LONG_HANDLE.setRelease(buffer, t & mask, header((int) (required - aligned), PADDING_TYPE));
        }
        return index;
    }

    /**
     * Many-to-one, the common case: the record fits before the end of the buffer and below the cached
     * head, and the first compare-and-set of the tail wins. Anything else: {@link #claimSharedSlow}.
     */
    private long claimShared(int recordLength) {
        long aligned = align(recordLength);
        MemorySegment r = ring;
        long t = (long) LONG_HANDLE.getVolatile(r, (long) TAIL_OFFSET);
        long index = t & mask;
        if (aligned > capacity - index) {
            return claimSharedSlow(recordLength, aligned);
        }
        if (t + aligned - headCache > capacity && t + aligned - refreshHead() > capacity) {
            return -1;
        }
        r.set(ValueLayout.JAVA_LONG_UNALIGNED, entry + ENTRY_CLAIM_START_OFFSET, t);
        r.set(ValueLayout.JAVA_LONG_UNALIGNED, entry + ENTRY_CLAIM_END_OFFSET, t + aligned);
        if (!LONG_HANDLE.compareAndSet(r, (long) TAIL_OFFSET, t, t + aligned)) {
            return claimSharedSlow(recordLength, aligned);
        }
        TestPoints.hit("ringProducer.afterTailCas");
        LONG_HANDLE.setRelease(buffer, index, header(-recordLength, tag));
        return index;
    }

    /**
     * Many-to-one: the range is written to this producer's entry (the intent a consumer reads if this
     * process dies before its header store) and then taken with one compare-and-set of the tail.
     */
    private long claimSharedSlow(int recordLength, long aligned) {
        long t;
        long required;
        do {
            t = (long) LONG_HANDLE.getVolatile(ring, (long) TAIL_OFFSET);
            required = intend(t, aligned);
            if (required < 0) {
                return -1;
            }
        } while (!LONG_HANDLE.compareAndSet(ring, (long) TAIL_OFFSET, t, t + required));
        TestPoints.hit("ringProducer.afterTailCas");
        return writeClaim(t, required, aligned, recordLength);
    }

    /** Reads the head again into the cache. {@return it} */
    private long refreshHead() {
        return headCache = (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_OFFSET);
    }

    /**
     * {@return the bytes a record of {@code aligned} bytes takes from position {@code t} — with the
     * padding to the end of the buffer when it does not fit before it — or -1 if there is no room};
     * when there is, writes the range to this producer's entry as its intent.
     */
    private long intend(long t, long aligned) {
        long toEnd = capacity - (t & mask);
        long required = aligned > toEnd ? toEnd + aligned : aligned;
        if (t + required - headCache > capacity) {
            headCache = (long) LONG_HANDLE.getAcquire(ring, (long) HEAD_OFFSET);
            if (t + required - headCache > capacity) {
                return -1;
            }
        }
        ring.set(Ring.LONG, entry + ENTRY_CLAIM_START_OFFSET, t);
        ring.set(Ring.LONG, entry + ENTRY_CLAIM_END_OFFSET, t + required);
        return required;
    }

    /** Writes the padding record (if the claim wraps) and the claim header. {@return the header's index} */
    private long writeClaim(long t, long required, long aligned, int recordLength) {
        long index = t & mask;
        if (required != aligned) {
            LONG_HANDLE.setRelease(buffer, index, header((int) (required - aligned), PADDING_TYPE));
            index = 0;
        }
        LONG_HANDLE.setRelease(buffer, index, header(-recordLength, tag));
        return index;
    }

    /**
     * Publishes the claim at {@code offset}: the consumer sees its whole payload. The header goes
     * from this claim's to the message's by compare-and-set: a claim the consumer took from this
     * producer meanwhile ({@link RingConsumer#unblock}) is not overwritten.
     *
     * @throws IllegalStateException if the claim was taken from this producer (its message is lost;
     *         the producer may go on with the next claim), or no claim is open at {@code offset}
     * @param offset what {@link #tryClaim} returned
     */
    public void commit(long offset) {
        checkOpen(offset);
        openIndex = -1;
        long claimed = header(-openLength, tag);
        if (!LONG_HANDLE.compareAndSet(buffer, offset - HEADER_LENGTH, claimed, header(openLength, openType))) {
            throw taken(offset, "commit");
        }
        LONG_HANDLE.setOpaque(ring, entry + ENTRY_COMMITTED_OFFSET, ++committed);
        if (signalling) {
            signal();
        }
    }

    private IllegalStateException taken(long offset, String what) {
        long now = (long) LONG_HANDLE.getVolatile(buffer, offset - HEADER_LENGTH);
        return new IllegalStateException("the claim at offset " + offset + " of " + owner + " was taken from this producer before its "
            + what + " (the consumer unblocked it: header now length " + length(now) + ", type " + type(now)
            + "); its message is lost, the next claim may go on");
    }

    /**
     * Gives the claim at {@code offset} up: it becomes padding, which the consumer skips (by compare-and-set, as a commit).
     *
     * @param offset what {@link #tryClaim} returned
     */
    public void abort(long offset) {
        checkOpen(offset);
        openIndex = -1;
        LONG_HANDLE.compareAndSet(buffer, offset - HEADER_LENGTH, header(-openLength, tag), header(openLength, PADDING_TYPE));
    }

    private void checkOpen(long offset) {
        if (offset != openIndex || offset < 0) {
            throw notOpen(offset);
        }
    }

    private IllegalStateException notOpen(long offset) {
        return new IllegalStateException(openIndex < 0 ? "no claim is open (offset " + offset + ")"
            : "the open claim is at offset " + openIndex + ", not " + offset);
    }

    /**
     * Copies {@code src} into the ring as one message.
     *
     * @param type the message type, at least 1
     * @param src the payload
     * @return {@code false} if the ring is full
     */
    public boolean write(int type, MemorySegment src) {
        long size = src.byteSize();
        if (size > maxMessage) {
            throw new IllegalArgumentException("message length must be in [0, " + maxMessage + "]: length=" + size);
        }
        return write(type, src, 0, (int) size);
    }

    /**
     * Copies {@code length} bytes of {@code src} at {@code srcOffset} as one message.
     *
     * @param type the message type, at least 1
     * @param src holds the payload
     * @param srcOffset where the payload starts in {@code src}
     * @param length the payload's length in bytes
     * @return {@code false} if the ring is full
     */
    public boolean write(int type, MemorySegment src, long srcOffset, int length) {
        long at = tryClaim(type, length);
        if (at < 0) {
            return false;
        }
        MemorySegment.copy(src, srcOffset, buffer, at, length);
        commit(at);
        return true;
    }

    /**
     * Wakes the consumer if it said it sleeps: after a full fence (the StoreLoad that pairs with the
     * consumer's), one load; only then an increment of the futex word and the wake call. Called by
     * every commit when signalling is on; with it off, call it after a batch.
     */
    public void signal() {
        VarHandle.fullFence();
        if ((int) INT_HANDLE.getOpaque(ring, (long) SLEEPING_OFFSET) != 0) {
            wake();
        }
    }

    private void wake() {
        INT_HANDLE.getAndAdd(ring, (long) SIGNAL_OFFSET, 1);
        owner.platform.wakeAddress(ring.asSlice(SIGNAL_OFFSET, 4), Integer.MAX_VALUE);
        LONG_HANDLE.getAndAdd(ring, (long) WAKE_CALLS_OFFSET, 1L);
    }

    /** {@return the messages this producer committed} */
    public long committed() {
        return committed;
    }

    /** {@return the index of this producer's entry in the ring's producer table} */
    public int entryIndex() {
        return tag;
    }

    /** Aborts an open claim and gives the entry back: its stamp cleared, then its lock byte let go. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        claimLimit = -1;
        if (owner.region.isClosed()) { // the lock went with the descriptor; the entry is a dead producer's to the next one
            owner.liveness.release(owner.entryLock(tag));
            return;
        }
        if (openIndex >= 0) {
            abort(openIndex);
        }
        LONG_HANDLE.getAndAdd(ring, (long) RETIRED_PRODUCED_OFFSET, committed);
        LONG_HANDLE.setRelease(ring, entry + ENTRY_COMMITTED_OFFSET, 0L);
        LONG_HANDLE.setRelease(ring, entry + ENTRY_STAMP_OFFSET, 0L); // the lock byte says the entry is ours: a plain clear
        owner.liveness.release(owner.entryLock(tag));
    }
}
