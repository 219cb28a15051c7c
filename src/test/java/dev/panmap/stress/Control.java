package dev.panmap.stress;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The words a stress test and its child processes share, at the start of a region's data area, each
 * on its own cache line so that the words readers spin on are not disturbed by the others. The
 * structures under test start at {@link #AREA}.
 *
 * <pre>
 *   0      phase: WARMUP, MEASURE, STOP (the parent writes it)
 *   64     anomaly: 0, or the id of the first child that found one (compare-and-set)
 *   128    announce: what the writer is about to write (round &lt;&lt; 32 | index + 1); 0 before the first
 *   192    ack[j], j &lt; 4: what reader j has seen announced, or where it waits
 *   512    progress[j], j &lt; 32: a per-child counter (reads done, cycles done, a round finished)
 *   2560   aux[j], j &lt; 32: a second per-child word (bytes allocated, attach state)
 *   4608   round: the round the parent opened (heap test)
 *   8192   roots[r]: the data offset of round r's structure; in the attach test, killed[j]: the pid
 *          of child j the test is about to kill (written before the kill)
 *   65536  the structures under test
 * </pre>
 */
final class Control {
    static final long WARMUP = 0;
    static final long MEASURE = 1;
    static final long STOP = 2;

    static final long PHASE = 0;
    static final long ANOMALY = 64;
    static final long ANNOUNCE = 128;
    static final long ACKS = 192;
    static final int MAX_ACKS = 4;
    static final long PROGRESS = 512;
    static final long AUX = 2560;
    static final int MAX_CHILDREN = 32;
    static final long ROUND = 4608;
    static final long ROOTS = 8192;
    static final int MAX_ROUNDS = (65536 - 8192) / 8;
    static final long AREA = 65536;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment data;

    Control(MemorySegment data) {
        this.data = data;
    }

    long phase() {
        return (long) LONG.getOpaque(data, PHASE);
    }

    void phase(long phase) {
        LONG.setRelease(data, PHASE, phase);
    }

    /** {@return whether the children should stop: the parent said so, or someone found an anomaly} */
    boolean stopping() {
        return phase() == STOP || (long) LONG.getOpaque(data, ANOMALY) != 0;
    }

    long anomaly() {
        return (long) LONG.getAcquire(data, ANOMALY);
    }

    /** Records that child {@code id} found an anomaly; {@return whether it was the first} */
    boolean reportAnomaly(int id) {
        return LONG.compareAndSet(data, ANOMALY, 0L, (long) id);
    }

    long announce() {
        return (long) LONG.getAcquire(data, ANNOUNCE);
    }

    void announce(long value) {
        LONG.setRelease(data, ANNOUNCE, value);
    }

    long ack(int reader) {
        return (long) LONG.getAcquire(data, ACKS + 64L * reader);
    }

    void ack(int reader, long value) {
        LONG.setRelease(data, ACKS + 64L * reader, value);
    }

    long progress(int child) {
        return (long) LONG.getAcquire(data, PROGRESS + 64L * child);
    }

    void progress(int child, long value) {
        LONG.setRelease(data, PROGRESS + 64L * child, value);
    }

    long aux(int child) {
        return (long) LONG.getAcquire(data, AUX + 64L * child);
    }

    void aux(int child, long value) {
        LONG.setRelease(data, AUX + 64L * child, value);
    }

    long round() {
        return (long) LONG.getAcquire(data, ROUND);
    }

    void round(long value) {
        LONG.setRelease(data, ROUND, value);
    }

    long root(int round) {
        return (long) LONG.getAcquire(data, ROOTS + 8L * round);
    }

    void root(int round, long offset) {
        if (round >= MAX_ROUNDS) {
            throw new IllegalStateException("more than " + MAX_ROUNDS + " rounds");
        }
        LONG.setRelease(data, ROOTS + 8L * round, offset);
    }

    long killed(int child) {
        return (long) LONG.getAcquire(data, ROOTS + 8L * child);
    }

    void killed(int child, long pid) {
        LONG.setVolatile(data, ROOTS + 8L * child, pid);
    }
}
