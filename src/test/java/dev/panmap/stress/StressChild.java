package dev.panmap.stress;

import static dev.panmap.stress.Keys.MISSING;
import static dev.panmap.stress.Keys.N;

import dev.panmap.ErrorKind;
import dev.panmap.ProcessInfo;
import dev.panmap.References;
import dev.panmap.RegionException;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import dev.panmap.structures.HashIndex;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.RegionHeap;
import dev.panmap.structures.SkipList;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Consumer;

/**
 * The processes of the stress tests: one role each, on a region the test created (its first
 * {@link Control#AREA} bytes are the shared {@link Control} words). Args: {@code ROLE NAME ID [...]}.
 * A role runs its {@code step()} — the hot method, which the test waits to see compiled by C2 —
 * until the test sets the phase to STOP or some process reports an anomaly, then prints
 * {@code RESULT ROLE id=ID name=count ...} (counts since the phase became MEASURE; {@code max...}
 * over the whole run) and exits. The first anomaly is printed as {@code ANOMALY text} and stops
 * every process of the test.
 *
 * <p>Readers check only what the writers' order guarantees across processes on x86-64: a reader that
 * sees a store of the writer also sees the writer's earlier stores (TSO), which is what the
 * structures' release stores promise and what the announcement protocol relies on.
 */
public final class StressChild {
    private StressChild() {}

    public static void main(String[] args) {
        String role = args[0];
        int id = Integer.parseInt(args[2]);
        try (SharedRegion region = SharedRegion.open(args[1])) {
            Control control = new Control(region.segment());
            Role r = switch (role) {
                case "hash-writer" -> new HashWriter(region, control, id, Integer.parseInt(args[3]));
                case "hash-reader" -> new HashReader(region, control, id);
                case "skip-writer" -> new SkipWriter(region, control, id, Integer.parseInt(args[3]));
                case "skip-reader" -> new SkipReader(region, control, id);
                case "list-writer" -> new ListWriter(region, control, id, Integer.parseInt(args[3]));
                case "list-reader" -> new ListReader(region, control, id);
                case "seq-writer" -> new SeqWriter(region, control, id);
                case "seq-reader" -> new SeqReader(region, control, id);
                case "heap-allocator" -> new HeapAllocator(region, control, id);
                case "attach-cycler" -> new AttachCycler(control, id, args[3]);
                case "attach-lister" -> new AttachLister(control, id, args[3], Integer.parseInt(args[4]));
                default -> throw new IllegalArgumentException("unknown role " + role);
            };
            r.run(role);
        }
        System.out.flush();
    }

    // ====================================================================== the frame every role shares

    abstract static class Role {
        final Control control;
        final int id;
        private final String[] names;
        final long[] counts;
        private long[] base;
        long anomalies;

        Role(Control control, int id, String... names) {
            this.control = control;
            this.id = id;
            this.names = names;
            this.counts = new long[names.length];
            this.base = new long[names.length];
        }

        /** Waits, outside the hot method, until there is something to do (so C2 profiles real work). */
        void awaitWork() {}

        /** One unit of work: the hot method. */
        abstract void step();

        void run(String role) {
            awaitWork();
            long phase = Control.WARMUP;
            while (!control.stopping()) {
                long p = control.phase();
                if (p != phase) {
                    phase = p;
                    if (p == Control.MEASURE) {
                        base = counts.clone();
                    }
                }
                step();
            }
            finish();
            StringBuilder line = new StringBuilder("RESULT ").append(role).append(" id=").append(id)
                .append(" pid=").append(ProcessHandle.current().pid());
            for (int i = 0; i < names.length; i++) { // "max..." counts are maxima, not sums
                line.append(' ').append(names[i]).append('=').append(names[i].startsWith("max") ? counts[i] : counts[i] - base[i]);
            }
            if (known > 0) {
                line.append(" known=").append(known);
            }
            line.append(" anomalies=").append(anomalies);
            System.out.println(line);
        }

        /** After the last step. */
        void finish() {}

        /** Reports a forbidden outcome; the first one stops every process of the test. */
        final void fail(String text) {
            anomalies++;
            if (control.reportAnomaly(id + 1)) {
                System.out.println("ANOMALY " + text);
            } else {
                System.out.println("ANOMALY(after the first) " + text);
            }
            System.out.flush();
        }

        private final java.util.Set<String> knownSeen = new java.util.HashSet<>();
        long known;

        /**
         * Reports an outcome of a bug this test found and that main code fixed (see the role's comment):
         * an anomaly, or with {@code -Dpanmap.stress.strict=false} counted and printed once per kind as
         * {@code KNOWN kind: text}.
         */
        final void known(String kind, String text) {
            known++;
            if (STRICT) {
                fail(text);
            } else if (knownSeen.add(kind)) {
                System.out.println("KNOWN " + kind + ": " + text);
            }
        }

        /** Spins, outside the hot method's fast path, for up to {@code nanos}. */
        static void pause(long nanos) {
            long end = System.nanoTime() + nanos;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        }
    }

    /** Whether outcomes of known bugs ({@link Role#known}) fail the test. */
    static final boolean STRICT = Boolean.parseBoolean(System.getProperty("panmap.stress.strict", "true"));

    static String hex(long v) {
        return v == MISSING ? "MISSING" : "0x" + Long.toHexString(v);
    }

    /** How long a writer waits for a reader to be looking at what it is about to write. */
    private static final long ACK_WAIT_NANOS = 50_000;

    /**
     * Waits until some reader acknowledged {@code expected} (it is now probing exactly that), or
     * {@link #ACK_WAIT_NANOS} passed; {@return whether one did}
     */
    static boolean awaitAck(Control control, int readers, long expected) {
        long deadline = 0;
        for (int spins = 1; ; spins++) {
            for (int j = 0; j < readers; j++) {
                if (control.ack(j) == expected) {
                    return true;
                }
            }
            if ((spins & 31) == 0) {
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + ACK_WAIT_NANOS;
                } else if (now > deadline) {
                    return false;
                }
            }
            Thread.onSpinWait();
        }
    }

    // ====================================================================== HashIndex

    /**
     * What the three structure writers share: the writer lock held throughout, a new structure in the
     * region's heap every {@link Keys#N} writes (announced to the readers through {@link Control#root}),
     * and a stop, reported once, when the heap or the round table is used up.
     */
    abstract static class RoundWriter extends Role {
        static final int WRITES = 0, ACKED = 1, ROUNDS = 2;
        final RegionHeap heap;
        final int readers;
        int round = -1;
        private int i = N;
        private boolean exhausted;

        RoundWriter(SharedRegion region, Control control, int id, int readers, String writes) {
            super(control, id, writes, "acked", "rounds");
            this.heap = RegionHeap.attach(region, Control.AREA);
            this.readers = readers;
            region.writerLock().lock();
        }

        /** {@return the heap bytes a round needs} */
        abstract long bytesPerRound();

        /** Creates this round's structure in {@link #heap}; {@return its root} */
        abstract long newStructure();

        /** Makes write {@code i} of the current round. */
        abstract void write(int i);

        @Override
        final void step() {
            if (i == N && !newRound()) {
                pause(1000);
                return;
            }
            write(i);
            counts[WRITES]++;
            i++;
        }

        private boolean newRound() {
            if (exhausted || round + 1 >= Control.MAX_ROUNDS || heap.remaining() < bytesPerRound()) {
                exhausted = true;
                return false;
            }
            round++;
            control.root(round, newStructure());
            i = 0;
            counts[ROUNDS]++;
            return true;
        }

        @Override
        final void finish() {
            if (exhausted) {
                System.out.println("EXHAUSTED the heap after " + (round + 1) + " rounds");
            }
        }
    }

    /** A keyed writer: announces each key, waits until a reader probes it, then puts it. */
    abstract static class KeyWriter extends RoundWriter {
        private final String what;

        KeyWriter(SharedRegion region, Control control, int id, int readers, String what) {
            super(region, control, id, readers, "puts");
            this.what = what;
        }

        /** Puts into this round's structure; {@return the previous value, or MISSING} */
        abstract long put(long key, long value);

        @Override
        final void write(int i) {
            long key = Keys.key(i);
            long announcement = Keys.announcement(round, i);
            control.announce(announcement);
            if (awaitAck(control, readers, announcement)) {
                counts[ACKED]++;
            }
            long previous = put(key, Keys.value(round, key));
            if (previous != MISSING) {
                fail(what + ": put of new key " + key + " (round " + round + ") found it present with " + hex(previous));
            }
        }
    }

    /** A new hash index every {@link Keys#N} keys. */
    static final class HashWriter extends KeyWriter {
        private HashIndex index;

        HashWriter(SharedRegion region, Control control, int id, int readers) {
            super(region, control, id, readers, "HashIndex");
        }

        @Override
        long bytesPerRound() {
            return (4L * N + 4) * 16 + 1024;
        }

        @Override
        long newStructure() {
            index = HashIndex.create(heap, N);
            return index.root();
        }

        @Override
        long put(long key, long value) {
            return index.put(key, value, MISSING);
        }
    }

    /**
     * Spins on the announced key: {@code get(k)} must be absent or exactly the value put; once the
     * writer announces the next key, the previous one must be present.
     */
    static final class HashReader extends Role {
        static final int CHECKS = 0, KEYS = 1, WITNESSED = 2;
        private final SharedRegion region;
        private final int ack;
        private HashIndex index;
        private int round = -1;
        private long seen;
        private long key;
        private long expected;
        private boolean sawMissing;

        HashReader(SharedRegion region, Control control, int id) {
            super(control, id, "checks", "keys", "witnessed");
            this.region = region;
            this.ack = id - 1;
        }

        @Override
        void awaitWork() {
            while (control.announce() == 0 && !control.stopping()) {
                Thread.onSpinWait();
            }
        }

        @Override
        void step() {
            long a = control.announce();
            if (a != seen) {
                announced(a);
            }
            long v = index.get(key, MISSING);
            counts[CHECKS]++;
            if (v == MISSING) {
                sawMissing = true;
            } else if (v != expected) {
                fail("HashIndex: key " + key + " (round " + round + ") is present with value " + hex(v) + ", not the value put, "
                    + hex(expected) + " (a reader saw the key before its value)");
            } else if (sawMissing) {
                counts[WITNESSED]++; // absent, then present: this reader saw the put land
                sawMissing = false;
            }
        }

        private void announced(long a) {
            int r = Keys.roundOf(a);
            long i = Keys.indexOf(a);
            if (r != round) {
                index = HashIndex.attach(region, control.root(r));
                round = r;
            }
            key = Keys.key(i);
            expected = Keys.value(r, key);
            control.ack(ack, a);
            seen = a;
            sawMissing = false;
            counts[KEYS]++;
            if (i > 0) { // the put of the previous key returned before this announcement
                long previous = Keys.key(i - 1);
                long v = index.get(previous, MISSING);
                if (v != Keys.value(r, previous)) {
                    fail("HashIndex: key " + previous + " (round " + r + "), whose put returned before key " + key
                        + " was announced, reads " + hex(v) + ", not " + hex(Keys.value(r, previous)));
                }
            }
        }
    }

    // ====================================================================== SkipList

    /** As {@link HashWriter}, with a skip list: keys go in scattered order, so links land all over it. */
    static final class SkipWriter extends KeyWriter {
        private SkipList list;

        SkipWriter(SharedRegion region, Control control, int id, int readers) {
            super(region, control, id, readers, "SkipList");
        }

        @Override
        long bytesPerRound() {
            return (long) N * 256 + 4096;
        }

        @Override
        long newStructure() {
            list = SkipList.create(heap);
            return list.root();
        }

        @Override
        long put(long key, long value) {
            return list.put(key, value, MISSING);
        }
    }

    /**
     * Spins on the announced key with {@code floorKey}, {@code get} and {@code ceilingKey}, and every
     * other step walks the keys around it in order (level 0: {@code ceilingNode}, {@code nextNode}).
     * Forbidden: a key present with a value but the one put; a key no put made (yet); a key found and
     * then missing from the ordered iteration or from {@code floorKey} (e.g. a node linked on an upper
     * level before level 0); a key missing (by {@code floorKey}) after its put returned.
     *
     * <p>Two bugs this test found in {@code SkipList}, fixed since (the search's successor is walked on
     * along level 0; the top level is raised before the links and read as at least 1). They are
     * forbidden outcomes like the others; {@code -Dpanmap.stress.strict=false} only reports them as
     * KNOWN, for trying an older version:
     * <ul>
     * <li>{@code stale-successor}: {@code get}, {@code ceilingKey} and {@code ceilingNode} take the
     *     search's last node below the key and then read its level-0 next reference again; a node the
     *     writer links there in between (a key just below the one looked up) is taken for the answer,
     *     so {@code get(k)} of a present key returns missing and {@code ceilingKey(k)} a key below k.
     *     Only while the writer puts another key: with the announcement unchanged since the key was
     *     announced, the same outcome is an anomaly (e.g. a node linked top-down).</li>
     * <li>{@code top-level-zero}: a search starts at the top level the header records, which the
     *     first put of an empty list raises only after it linked its node; until then {@code floorKey}
     *     does not look at level 0 at all and misses that node, which {@code get} already returns.</li>
     * </ul>
     */
    static final class SkipReader extends Role {
        static final int CHECKS = 0, KEYS = 1, WITNESSED = 2, WALKED = 3;
        private static final long WINDOW = 8;
        private final SharedRegion region;
        private final int ack;
        private SkipList list;
        private int round = -1;
        private long seen;
        private long index;
        private long key;
        private long expected;
        private boolean sawMissing;
        private boolean sawPresent;
        private long steps;

        SkipReader(SharedRegion region, Control control, int id) {
            super(control, id, "checks", "keys", "witnessed", "walked");
            this.region = region;
            this.ack = id - 1;
        }

        @Override
        void awaitWork() {
            while (control.announce() == 0 && !control.stopping()) {
                Thread.onSpinWait();
            }
        }

        @Override
        void step() {
            long a = control.announce();
            if (a != seen) {
                announced(a);
            }
            if ((++steps & 1) == 0) {
                probe();
            } else {
                walk();
            }
        }

        private void probe() {
            long floor = list.floorKey(key, MISSING);
            if (floor == key) {
                // found by the search (any level): level 0 must hold it too, so iteration reaches it. From
                // ceilingNode on, since that may return a node just linked below the key (stale-successor)
                long n = list.ceilingNode(key);
                while (n != References.NULL && list.key(n) < key) {
                    n = list.nextNode(n);
                }
                if (n == References.NULL || list.key(n) != key) {
                    fail("SkipList: floorKey found key " + key + " (round " + round + ") but iteration on level 0 from ceilingNode("
                        + key + ") does not reach it: " + (n == References.NULL ? "the list ends" : "it goes on at key " + list.key(n)));
                    return;
                }
            }
            long v = list.get(key, MISSING);
            long ceiling = list.ceilingKey(key, MISSING);
            counts[CHECKS]++;
            if (v != MISSING && v != expected) {
                fail("SkipList: key " + key + " (round " + round + ") is present with value " + hex(v) + ", not the value put, " + hex(expected));
                return;
            }
            if (floor != MISSING && floor != key && !(floor < key && mayBePresent(floor))) {
                fail("SkipList: floorKey(" + key + ") returned " + hex(floor) + ", a key not put (yet) in round " + round);
                return;
            }
            if (ceiling != MISSING && ceiling < key) {
                String text = "SkipList: ceilingKey(" + key + ") returned " + ceiling + ", a smaller key (round " + round + ")";
                if (!anotherPutBegan(text)) {
                    return;
                }
            } else if (ceiling != MISSING && ceiling != key && !mayBePresent(ceiling)) {
                fail("SkipList: ceilingKey(" + key + ") returned " + hex(ceiling) + ", a key not put (yet) in round " + round);
                return;
            } else if (v != MISSING && ceiling != key) {
                fail("SkipList: get found key " + key + " (round " + round + ") but the ceilingKey right after returned " + hex(ceiling));
                return;
            }
            if (floor == key && v == MISSING
                    && !anotherPutBegan("SkipList: floorKey found key " + key + " (round " + round + ") but the get right after missed it")) {
                return;
            }
            if (sawPresent && floor != key) {
                if (floor == MISSING && index == 0) {
                    known("top-level-zero", "SkipList: key " + key + ", the first of round " + round + ", found before, is missing from floorKey now");
                } else {
                    fail("SkipList: key " + key + " (round " + round + "), found before, is missing from floorKey now: " + hex(floor));
                    return;
                }
            }
            if (v == MISSING && floor != key) {
                sawMissing = true;
            } else {
                sawPresent = true;
                if (sawMissing) {
                    counts[WITNESSED]++;
                    sawMissing = false;
                }
            }
        }

        /** Ordered iteration over the keys within {@link #WINDOW} of the announced one. */
        private void walk() {
            long from = Math.max(1, key - WINDOW);
            long previous = Long.MIN_VALUE;
            boolean sawKey = false;
            boolean passed = false;
            long n = list.ceilingNode(from);
            for (; n != References.NULL; n = list.nextNode(n)) {
                long k = list.key(n);
                long v = list.value(n);
                counts[WALKED]++;
                if (k <= previous) {
                    fail("SkipList: ordered iteration went from key " + previous + " to key " + k + " (round " + round + ")");
                    return;
                }
                if (k != key && !mayBePresent(k)) {
                    fail("SkipList: ordered iteration met key " + hex(k) + ", not put (yet) in round " + round + " (value " + hex(v) + ")");
                    return;
                }
                if (v != Keys.value(round, k)) {
                    fail("SkipList: ordered iteration met key " + k + " (round " + round + ") with value " + hex(v)
                        + ", not the value put, " + hex(Keys.value(round, k)));
                    return;
                }
                if (previous == Long.MIN_VALUE && k < from
                        && !anotherPutBegan("SkipList: ceilingNode(" + from + ") returned the node of key " + k + " (round " + round + ")")) {
                    return;
                }
                sawKey |= k == key;
                if (k > key + WINDOW) {
                    passed = true;
                    break;
                }
                previous = k;
            }
            if (sawPresent && !sawKey) {
                fail("SkipList: key " + key + " (round " + round + "), found before, is missing from the ordered iteration"
                    + (passed ? "" : " (which ended before it)"));
            }
        }

        /**
         * An outcome {@code stale-successor} explains only if the writer linked another node since
         * this key was announced: known if it began another put (announced another key), an anomaly
         * if not. {@return whether it was only known}
         */
        private boolean anotherPutBegan(String text) {
            if (control.announce() != seen) {
                known("stale-successor", text);
                return true;
            }
            fail(text + ", and no other put began meanwhile");
            return false;
        }

        /**
         * Whether {@code k} may be in the list now: a key of this round whose put began. A writer
         * announces a key before it puts it, so a key seen in the list before this re-read of the
         * announcement has been announced by then.
         */
        private boolean mayBePresent(long k) {
            if (k < 1 || k > N) {
                return false;
            }
            long p = Keys.position(k);
            if (p <= index) {
                return true;
            }
            long a = control.announce();
            return Keys.roundOf(a) > round || p <= Keys.indexOf(a);
        }

        private void announced(long a) {
            int r = Keys.roundOf(a);
            long i = Keys.indexOf(a);
            if (r != round) {
                list = SkipList.attach(region, control.root(r));
                round = r;
            }
            index = i;
            key = Keys.key(i);
            expected = Keys.value(r, key);
            control.ack(ack, a);
            seen = a;
            sawMissing = false;
            sawPresent = false;
            counts[KEYS]++;
            if (i > 0) { // the put of the previous key returned before this announcement
                long previous = Keys.key(i - 1);
                long floor = list.floorKey(previous, MISSING);
                long floorValue = list.floorValue(previous, MISSING);
                long v = list.get(previous, MISSING);
                if (floor != previous || floorValue != Keys.value(r, previous)) {
                    fail("SkipList: key " + previous + " (round " + r + "), whose put returned before key " + key
                        + " was announced, has floorKey " + hex(floor) + " and floorValue " + hex(floorValue) + ", not " + hex(Keys.value(r, previous)));
                } else if (v != Keys.value(r, previous)) {
                    if (v == MISSING) {
                        known("stale-successor", "SkipList: get missed key " + previous + " (round " + r + "), whose put returned before key "
                            + key + " was announced");
                    } else {
                        fail("SkipList: key " + previous + " (round " + r + ") reads " + hex(v) + ", not the value put, " + hex(Keys.value(r, previous)));
                    }
                }
            }
        }
    }

    // ====================================================================== NodeList

    /**
     * Appends node i of a round with {@code value(round, i)}, after waiting until a reader waits on
     * the link it is about to make (the next reference of node i - 1). A new list every N nodes.
     */
    static final class ListWriter extends RoundWriter {
        private NodeList list;

        ListWriter(SharedRegion region, Control control, int id, int readers) {
            super(region, control, id, readers, "appends");
        }

        @Override
        long bytesPerRound() {
            return (long) N * 16 + 4096;
        }

        @Override
        long newStructure() {
            list = NodeList.create(heap, 16);
            return list.root();
        }

        @Override
        void write(int i) {
            control.announce(Keys.announcement(round, i));
            if (awaitAck(control, readers, ListReader.waitingAfter(round, i - 1))) {
                counts[ACKED]++;
            }
            list.add(Keys.value(round, i));
        }
    }

    /**
     * Follows the list from its first node, spinning on the next reference of the last node it
     * reached; every node that becomes reachable must hold {@code value(round, its index)}.
     */
    static final class ListReader extends Role {
        static final int CHECKS = 0, WITNESSED = 1, SPINS = 2;
        private final SharedRegion region;
        private final int ack;
        private NodeList list;
        private int round = -1;
        private long node = References.NULL; // NULL: at the list's header
        private long index = -1;
        private boolean waited;

        ListReader(SharedRegion region, Control control, int id) {
            super(control, id, "checks", "witnessed", "spins");
            this.region = region;
            this.ack = id - 1;
        }

        /** {@return what a reader acknowledges while it waits on the next reference of node {@code index}} (-1: the header) */
        static long waitingAfter(long round, long index) {
            return (round << 32) | (index + 1);
        }

        @Override
        void awaitWork() {
            while (control.announce() == 0 && !control.stopping()) {
                Thread.onSpinWait();
            }
            enter(Keys.roundOf(control.announce()));
        }

        private void enter(int r) {
            list = NodeList.attach(region, control.root(r));
            round = r;
            node = References.NULL;
            index = -1;
            control.ack(ack, waitingAfter(r, -1));
        }

        @Override
        void step() {
            long next = node == References.NULL ? list.first() : list.next(node);
            if (next != References.NULL) {
                long v = list.value(next);
                index++;
                counts[CHECKS]++;
                if (index >= N || v != Keys.value(round, index)) {
                    fail("NodeList: linked node " + index + " of round " + round + " holds " + hex(v) + ", not the value appended, "
                        + hex(Keys.value(round, index)) + " (a reader reached the node before its value)");
                }
                if (waited) {
                    counts[WITNESSED]++; // this reader was waiting on the link as it was made
                    waited = false;
                }
                node = next;
                control.ack(ack, waitingAfter(round, index));
                return;
            }
            waited = true;
            if ((++counts[SPINS] & 63) == 0 && Keys.roundOf(control.announce()) > round) {
                // the writer finished this list before it announced the next round: read the link again
                long last = node == References.NULL ? list.first() : list.next(node);
                if (last != References.NULL) {
                    return;
                }
                if (index != N - 1) {
                    fail("NodeList: the list of round " + round + " ends after " + (index + 1) + " nodes; its writer appended " + N);
                    return;
                }
                enter(round + 1);
            }
        }
    }

    // ====================================================================== SeqRecord

    /** Payload words: word 0 is the write's number c, words 1.. are derived from c, the last is a checksum. */
    static final int SEQ_WORDS = 32;
    private static final long SEQ_K1 = 0x9E37_79B9_7F4A_7C15L;
    private static final long SEQ_K2 = 0xC2B2_AE3D_27D4_EB4FL;
    private static final long SEQ_K1_INVERSE;

    static {
        long x = SEQ_K1;
        for (int i = 0; i < 5; i++) {
            x *= 2 - SEQ_K1 * x;
        }
        SEQ_K1_INVERSE = x;
    }

    /** {@return word {@code j} (0 &lt; j &lt; SEQ_WORDS - 1) of write {@code c}} */
    static long seqWord(long c, int j) {
        return (c * SEQ_K1) ^ (j * SEQ_K2);
    }

    /** {@return which write a word {@code j} came from} (for messages) */
    static long seqWriteOf(long word, int j) {
        return (word ^ (j * SEQ_K2)) * SEQ_K1_INVERSE;
    }

    static long seqChecksum(long c) {
        long sum = c;
        for (int j = 1; j < SEQ_WORDS - 1; j++) {
            sum = Long.rotateLeft(sum, 7) + seqWord(c, j);
        }
        return sum;
    }

    /** Holds the writer lock and writes version c = 1, 2, ... as fast as it can, each word in place. */
    static final class SeqWriter extends Role {
        static final int WRITES = 0;
        private final SeqRecord record;
        private final Filler filler = new Filler();

        SeqWriter(SharedRegion region, Control control, int id) {
            super(control, id, "writes");
            this.record = SeqRecord.attach(region, Control.AREA);
            region.writerLock().lock();
            System.out.println("LOCKED repaired=" + record.repairedWrites() + " version=" + record.version());
        }

        private static final class Filler implements Consumer<MemorySegment> {
            long c;

            @Override
            public void accept(MemorySegment p) {
                long c = this.c;
                p.set(ValueLayout.JAVA_LONG, 0, c);
                for (int j = 1; j < SEQ_WORDS - 1; j++) {
                    p.set(ValueLayout.JAVA_LONG, 8L * j, seqWord(c, j));
                }
                p.set(ValueLayout.JAVA_LONG, 8L * (SEQ_WORDS - 1), seqChecksum(c));
            }
        }

        @Override
        void step() {
            filler.c = record.version() + 1; // the version this write publishes
            record.write(filler);
            if ((++counts[WRITES] & 1023) == 0) {
                control.progress(id, counts[WRITES]);
            }
        }
    }

    /** Reads flat out; every copy must be one whole write, the one whose version read() returned. */
    static final class SeqReader extends Role {
        static final int CHECKS = 0, VERSIONS = 1;
        private final SeqRecord record;
        private final MemorySegment copy = Arena.ofAuto().allocate(8L * SEQ_WORDS, 64);
        private long last;

        SeqReader(SharedRegion region, Control control, int id) {
            super(control, id, "checks", "versions");
            this.record = SeqRecord.attach(region, Control.AREA);
        }

        @Override
        void awaitWork() {
            while (record.version() == 0 && !control.stopping()) {
                Thread.onSpinWait();
            }
        }

        @Override
        void step() {
            long version = record.read(copy);
            long checks = ++counts[CHECKS];
            if ((checks & 255) == 0) {
                control.progress(id, checks);
            }
            long c = copy.get(ValueLayout.JAVA_LONG, 0);
            for (int j = 1; j < SEQ_WORDS - 1; j++) {
                long w = copy.get(ValueLayout.JAVA_LONG, 8L * j);
                if (w != seqWord(c, j)) {
                    fail("SeqRecord: a copy mixes writes: word 0 is from write " + c + ", word " + j + " from write " + seqWriteOf(w, j)
                        + " (read() returned version " + version + ")");
                    return;
                }
            }
            if (copy.get(ValueLayout.JAVA_LONG, 8L * (SEQ_WORDS - 1)) != seqChecksum(c)) {
                fail("SeqRecord: a copy mixes writes: the checksum of write " + c + " does not match");
                return;
            }
            if (c != version) {
                fail("SeqRecord: read() returned version " + version + " with the whole payload of write " + c);
                return;
            }
            if (version < last) {
                fail("SeqRecord: version went back from " + last + " to " + version);
                return;
            }
            if (version != last) {
                counts[VERSIONS]++;
                last = version;
            }
        }
    }

    // ====================================================================== RegionHeap

    /** {@return the word an allocator writes into every word of a block it got} */
    static long heapTag(long round, int owner, long start) {
        return ((round & 0xFF) << 56) | ((long) (owner & 0xFF) << 48) | start;
    }

    /**
     * In each round the test opens (a fresh heap at {@link Control#AREA}), allocates blocks of 8 to 64
     * bytes until the heap is full, writing its tag into every word of each, then checks its blocks
     * still hold only its tag and reports the round done ({@code progress}) with its block and word
     * counts ({@code aux}: blocks &lt;&lt; 32 | words).
     */
    static final class HeapAllocator extends Role {
        static final int BLOCKS = 0, ROUNDS = 1;
        private final SharedRegion region;
        private final MemorySegment data;
        private RegionHeap heap;
        private long round;
        private boolean allocating;
        private long[] blocks = new long[1 << 16]; // start << 8 | words
        private int count;
        private long words;
        private long random;

        HeapAllocator(SharedRegion region, Control control, int id) {
            super(control, id, "blocks", "rounds");
            this.region = region;
            this.data = region.segment();
            this.random = 0x2545_F491_4F6C_DD1DL * (id + 1);
        }

        @Override
        void awaitWork() {
            while (control.round() == 0 && !control.stopping()) {
                Thread.onSpinWait();
            }
        }

        @Override
        void step() {
            if (!allocating) {
                long r = control.round();
                if (r == round) {
                    Thread.onSpinWait();
                    return;
                }
                heap = RegionHeap.attach(region, Control.AREA);
                round = r;
                count = 0;
                words = 0;
                allocating = true;
            }
            random ^= random << 13;
            random ^= random >>> 7;
            random ^= random << 17;
            long size = 8 * (1 + (random & 7));
            long at;
            try {
                at = heap.allocate(size);
            } catch (RegionException e) {
                if (e.kind() != ErrorKind.NO_SPACE) {
                    throw e;
                }
                endRound();
                return;
            }
            long tag = heapTag(round, id, at);
            for (long w = 0; w < size; w += 8) {
                data.set(ValueLayout.JAVA_LONG, at + w, tag);
            }
            if (count == blocks.length) {
                blocks = java.util.Arrays.copyOf(blocks, count * 2);
            }
            blocks[count++] = at << 8 | (size >>> 3);
            words += size >>> 3;
            counts[BLOCKS]++;
        }

        private void endRound() {
            allocating = false;
            check:
            for (int b = 0; b < count; b++) {
                long at = blocks[b] >>> 8;
                long size = (blocks[b] & 0xFF) << 3;
                long tag = heapTag(round, id, at);
                for (long w = 0; w < size; w += 8) {
                    long found = data.get(ValueLayout.JAVA_LONG, at + w);
                    if (found != tag) {
                        fail("RegionHeap: blocks overlap: process " + id + " got [" + at + ", " + (at + size) + ") from allocate, but offset "
                            + (at + w) + " holds the tag of owner " + ((found >>> 48) & 0xFF) + "'s block at " + (found & 0xFFFF_FFFF_FFFFL)
                            + " (round " + ((found >>> 56) & 0xFF) + ")");
                        break check;
                    }
                }
            }
            counts[ROUNDS]++;
            control.aux(id, ((long) count << 32) | words);
            control.progress(id, round);
        }
    }

    // ====================================================================== attach table

    /**
     * Attaches to and detaches from the target region over and over (one handle at a time), staying
     * attached for 0 to 2 ms each time. While attached: this live process must be in the table, once; the state word ({@code aux}: pid
     * &lt;&lt; 32 | generation &lt;&lt; 1 | attached) tells the lister when it must be.
     */
    static final class AttachCycler extends Role {
        static final int CYCLES = 0;
        private final String target;
        private final int pid = (int) ProcessHandle.current().pid();
        private long generation;

        AttachCycler(Control control, int id, String target) {
            super(control, id, "cycles");
            this.target = target;
        }

        @Override
        void step() {
            SharedRegion region;
            try {
                region = SharedRegion.open(target);
            } catch (RegionException e) {
                if (e.kind() == ErrorKind.LIMIT_REACHED) {
                    fail("AttachTable: the table filled up with the dead: " + e.getMessage() + "; it lists " + listing());
                    return;
                }
                throw e;
            }
            try {
                check(region, "attach returned");
                control.aux(id, ((long) pid << 32) | (generation << 1) | 1);
                // stay attached for 0 to 2 ms, checking: a kill then leaves a dead process in the table
                long until = System.nanoTime() + (generation * 0x9E37_79B9L & 0x1F_FFFFL);
                do {
                    check(region, "this process stayed attached");
                } while (System.nanoTime() < until && !control.stopping());
                control.aux(id, ((long) pid << 32) | (generation << 1));
            } finally {
                region.close();
            }
            generation++;
            counts[CYCLES]++;
            control.progress(id, generation);
        }

        private void check(SharedRegion region, String when) {
            int mine = 0;
            for (ProcessInfo p : region.attachedProcesses()) {
                if (p.pid() == pid) {
                    mine++;
                }
            }
            if (mine != 1) {
                fail("AttachTable: " + when + " but this live process (pid " + pid + ", one handle) is in the table "
                    + mine + " times (another process took or cleared its slot): " + region.attachedProcesses());
            }
        }

        private String listing() {
            try (SharedRegion viewer = SharedRegion.open(target, dev.panmap.OpenMode.OPEN_READ_ONLY, dev.panmap.RegionOptions.defaults())) {
                return viewer.attachedProcesses().toString();
            } catch (RuntimeException e) {
                return "(cannot list: " + e + ")";
            }
        }
    }

    /**
     * Keeps one handle and lists the table flat out: a cycler whose state word says "attached" both
     * before and after a listing must be in it, alive, unless the test killed it ({@link Control#killed}).
     */
    static final class AttachLister extends Role {
        static final int LISTINGS = 0, REQUIRED = 1, MAX_DEAD = 2, MAX_LISTED = 3;
        private final SharedRegion region;
        private final int cyclers;
        private final long[] before;

        AttachLister(Control control, int id, String target, int cyclers) {
            super(control, id, "listings", "required", "maxDead", "maxListed");
            this.region = SharedRegion.open(target);
            this.cyclers = cyclers;
            this.before = new long[cyclers + 1];
        }

        @Override
        void step() {
            for (int j = 1; j <= cyclers; j++) {
                before[j] = control.aux(j);
            }
            List<ProcessInfo> listed = region.attachedProcesses();
            counts[LISTINGS]++;
            long dead = 0;
            for (ProcessInfo p : listed) {
                dead += p.alive() ? 0 : 1;
            }
            counts[MAX_DEAD] = Math.max(counts[MAX_DEAD], dead);
            counts[MAX_LISTED] = Math.max(counts[MAX_LISTED], listed.size());
            for (int j = 1; j <= cyclers; j++) {
                long state = control.aux(j);
                if (state != before[j] || (state & 1) == 0) {
                    continue;
                }
                counts[REQUIRED]++;
                int pid = (int) (state >>> 32);
                boolean found = false;
                for (ProcessInfo p : listed) {
                    found |= p.pid() == pid && p.alive();
                }
                if (!found && control.killed(j) != pid) {
                    fail("AttachTable: live process " + pid + ", attached from before this listing to after it, is missing from"
                        + " attachedProcesses() (another process took or cleared its slot): " + listed);
                    return;
                }
            }
        }

        @Override
        void finish() {
            region.close();
        }
    }
}
