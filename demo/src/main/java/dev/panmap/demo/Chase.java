package dev.panmap.demo;

import dev.panmap.References;
import dev.panmap.SharedRegion;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.function.LongSupplier;

/**
 * The demo's rough pointer-vs-offset timing: a cyclic linked list laid out in random order in a
 * region's data area, followed node by node. In a DIRECT region a stored reference is an absolute
 * address and is loaded from as it is; in an OFFSET region it is a distance from the region start
 * and costs a subtraction and a bounds check against the region. A few rounds, best one kept: a
 * demonstration, not a measurement ({@code make bench} is the benchmark).
 *
 * <pre>
 * node (16 bytes):  next reference (8) | value (8)
 * </pre>
 */
final class Chase {
    private Chase() {}

    static final long NODE_SIZE = 16;
    private static final int WARMUP_ROUNDS = 10;
    private static final int ROUNDS = 10;

    /** Every address of this process: the DIRECT chase loads through it, unbounded. */
    @SuppressWarnings("restricted")
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** The result of one mode: nanoseconds per node and the sum of the values visited. */
    record Timing(double nanosPerNode, long sum) {}

    /**
     * Lays out {@code nodes} nodes from data offset {@code from} in an order shuffled by {@code seed}
     * (the same for both regions) and links node k to node k+1, the last back to the first.
     *
     * @return the reference of node 0
     */
    static long build(SharedRegion region, long from, int nodes, long seed) {
        if (from + nodes * NODE_SIZE > region.size()) {
            throw new IllegalArgumentException(nodes + " nodes do not fit in " + region.name());
        }
        int[] slot = new int[nodes];
        for (int i = 0; i < nodes; i++) {
            slot[i] = i;
        }
        Random random = new Random(seed);
        for (int i = nodes - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            int t = slot[i];
            slot[i] = slot[j];
            slot[j] = t;
        }
        MemorySegment data = region.segment();
        References refs = region.references();
        for (int k = 0; k < nodes; k++) {
            long at = from + slot[k] * NODE_SIZE;
            long next = from + slot[(k + 1) % nodes] * NODE_SIZE;
            data.set(ValueLayout.JAVA_LONG, at, refs.toRef(next));
            data.set(ValueLayout.JAVA_LONG, at + 8, k);
        }
        return refs.toRef(from + slot[0] * NODE_SIZE);
    }

    /** Chases a DIRECT region's list: each reference is the address to load from. */
    static Timing direct(long head, int nodes) {
        return time(nodes, () -> {
            long sum = 0;
            long p = head;
            for (int i = 0; i < nodes; i++) {
                sum += EVERYTHING.get(ValueLayout.JAVA_LONG, p + 8);
                p = EVERYTHING.get(ValueLayout.JAVA_LONG, p);
            }
            return sum;
        });
    }

    /** Chases an OFFSET region's list: each reference is turned into a data-area offset first. */
    static Timing offset(SharedRegion region, long head, int nodes) {
        MemorySegment data = region.segment();
        References refs = region.references();
        return time(nodes, () -> {
            long sum = 0;
            long p = head;
            for (int i = 0; i < nodes; i++) {
                long at = refs.toOffset(p); // a distance from the region start, less the header
                sum += data.get(ValueLayout.JAVA_LONG, at + 8);
                p = data.get(ValueLayout.JAVA_LONG, at);
            }
            return sum;
        });
    }

    /** {@return the faster of two timings of the same chase} */
    static Timing best(Timing a, Timing b) {
        return a.nanosPerNode() <= b.nanosPerNode() ? a : b;
    }

    /** Runs a chase of {@code nodes} nodes a few times; {@return the best round, per node} */
    private static Timing time(int nodes, LongSupplier chase) {
        long best = Long.MAX_VALUE;
        long sum = 0;
        for (int round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
            long start = System.nanoTime();
            sum = chase.getAsLong();
            if (round >= WARMUP_ROUNDS) {
                best = Math.min(best, System.nanoTime() - start);
            }
        }
        return new Timing((double) best / nodes, sum);
    }
}
