package dev.panmap.stress;

/**
 * What writers write and readers expect, computed the same way in every process: in round {@code r}
 * the writer puts keys {@code key(0)}, {@code key(1)}, ... {@code key(N - 1)} in that order, each
 * with {@code value(r, key)}, so a reader that knows the key and the round knows the one value a
 * present key may have, and which keys may already be present.
 */
final class Keys {
    private Keys() {}

    /** Keys per round: one structure per round, so the tables stay small and the heap bounded. */
    static final int N = 1 << 16;
    /** What readers pass for "absent"; no value ever equals it (values are odd, it is even). */
    static final long MISSING = Long.MIN_VALUE;

    private static final long MULTIPLIER = 0x9E37_79B1L; // odd: i -> i * M mod N is a permutation
    private static final long INVERSE = inverse(MULTIPLIER);

    /** {@return the i-th key of a round, i in [0, N)}: a permutation of [1, N], so insertions scatter */
    static long key(long i) {
        return ((i * MULTIPLIER) & (N - 1)) + 1;
    }

    /** {@return the position in the round's order of {@code key}, in [1, N]} */
    static long position(long key) {
        return ((key - 1) * INVERSE) & (N - 1);
    }

    /** {@return the value of {@code key} in round {@code round}}: odd, so never 0 nor {@link #MISSING} */
    static long value(long round, long key) {
        long h = (key + (round << 40)) * 0x9E37_79B9_7F4A_7C15L;
        h ^= h >>> 29;
        return h | 1;
    }

    /** {@return the announcement of index {@code i} of round {@code round}}: never 0 */
    static long announcement(long round, long i) {
        return (round << 32) | (i + 1);
    }

    static int roundOf(long announcement) {
        return (int) (announcement >>> 32);
    }

    static long indexOf(long announcement) {
        return (announcement & 0xFFFF_FFFFL) - 1;
    }

    private static long inverse(long odd) {
        long x = odd; // Newton's iteration doubles the correct low bits each time: 3, 6, 12, 24, 48, 96
        for (int i = 0; i < 5; i++) {
            x *= 2 - odd * x;
        }
        return x;
    }
}
