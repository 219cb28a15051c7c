package dev.panmap.structures;

import static dev.panmap.structures.Access.ALL;
import static dev.panmap.structures.Access.ANY_LONG;
import static dev.panmap.structures.Access.INT;
import static dev.panmap.structures.Access.LONG;
import static dev.panmap.structures.StructureLayout.Skip.*;

import dev.panmap.References;
import dev.panmap.SharedRegion;
import java.lang.foreign.MemorySegment;

/**
 * An ordered map in a region ({@link StructureLayout.Skip}): a skip list of {@code long} keys
 * (signed order) to {@code long} values with {@link #get}, {@link #floorKey} and
 * {@link #ceilingKey}. Next references are stored as the region's addressing mode says, so a DIRECT
 * region's lookups chase absolute addresses. Nodes come from a {@link RegionHeap} and are never
 * freed; keys are not removed.
 *
 * <p><b>Writers</b> ({@link #put}) hold the region's writer lock (checked). <b>Readers</b> need no
 * lock: a new node is filled, then linked bottom-up, each level with a release store; a reader
 * finds it from level 0 on as soon as level 0 is linked, and never follows a half-made node. Every
 * reference is checked before it is followed ({@link ReferenceChecking}).
 */
public final class SkipList {
    private final Access access;
    // copied out of access: one dependent load less per lookup
    private final boolean direct;
    private final long refBase;
    private final RegionHeap heap;
    private final long root;
    private final long head;
    private final int maxLevel;
    /** The most nodes the data area holds: a search longer than this is a cycle. */
    private final long maxNodes;
    /** {@code limits[i]}: {@link Access#limit} for a node with at least {@code i + 1} levels. */
    private final long[] limits;

    private SkipList(Access access, RegionHeap heap, long root) {
        this.access = access;
        this.direct = access.direct;
        this.refBase = access.refBase;
        this.heap = heap;
        this.root = root;
        this.head = access.data.get(LONG, root + HEAD_OFFSET);
        this.maxLevel = access.data.get(INT, root + MAX_LEVEL_OFFSET);
        long headOffset = access.offset(head);
        // the DIRECT loop reads through an unbounded segment: a damaged root must fail here, not there
        if (maxLevel < 1 || maxLevel > MAX_LEVEL || headOffset < 0 || headOffset > access.data.byteSize() - nodeSize(maxLevel)
            || (headOffset & 7) != 0) {
            throw new dev.panmap.RegionException(dev.panmap.ErrorKind.CORRUPT_REGION, "the skip list at offset " + root + " of "
                + access.region.name() + " is damaged: " + maxLevel + " levels, head at offset " + headOffset);
        }
        this.maxNodes = access.dataSize / nodeSize(1);
        this.limits = new long[maxLevel];
        for (int i = 0; i < maxLevel; i++) {
            limits[i] = access.limit(nodeSize(i + 1));
        }
    }

    /**
     * Creates an empty skip list in {@code heap} (up to {@link StructureLayout.Skip#MAX_LEVEL} levels).
     *
     * @param heap the heap its header and nodes come from (in the region it lives in)
     * @return the skip list
     */
    public static SkipList create(RegionHeap heap) {
        Access a = new Access(heap.region(), ReferenceChecking.CHECKED);
        long root = heap.allocate(SIZE);
        long head = heap.allocate(nodeSize(MAX_LEVEL));
        a.data.asSlice(root, SIZE).fill((byte) 0);
        a.data.asSlice(head, nodeSize(MAX_LEVEL)).fill((byte) 0);
        a.data.set(INT, head + NODE_LEVEL_OFFSET, MAX_LEVEL);
        a.data.set(INT, root + MAX_LEVEL_OFFSET, MAX_LEVEL);
        a.data.set(LONG, root + HEAD_OFFSET, a.ref(head));
        a.data.set(LONG, root + HEAP_OFFSET, heap.root());
        a.data.set(LONG, root + RANDOM_OFFSET, 0x9E3779B97F4A7C15L ^ root);
        StructureLayout.publish(a.data, root, MAGIC, VERSION);
        return new SkipList(a, heap, root);
    }

    /**
     * Attaches to the skip list at data offset {@code root} of {@code region}, with every reference checked.
     *
     * @param region the region it lives in
     * @param root its data offset, as {@code root()} gave it
     * @return the skip list
     */
    public static SkipList attach(SharedRegion region, long root) {
        return attach(region, root, ReferenceChecking.CHECKED);
    }

    /**
     * Attaches to the skip list at data offset {@code root} of {@code region}; see {@link ReferenceChecking}.
     *
     * @param region the region it lives in
     * @param root its data offset, as {@code root()} gave it
     * @param checking whether every reference read is checked against the region's bounds
     * @return the skip list
     */
    public static SkipList attach(SharedRegion region, long root, ReferenceChecking checking) {
        StructureLayout.check(region.segment(), root, MAGIC, VERSION, "skip list");
        Access a = new Access(region, checking);
        return new SkipList(a, StructureLayout.heapOf(region, root, HEAP_OFFSET, "skip list"), root);
    }

    /** A level in [1, max level], P(level > l) = 4^-l, from the state in the header (writers only). */
    private int randomLevel() {
        MemorySegment d = access.data;
        long x = d.get(LONG, root + RANDOM_OFFSET);
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        d.set(LONG, root + RANDOM_OFFSET, x);
        int level = 1 + Long.numberOfTrailingZeros(x | (1L << 62)) / 2;
        return Math.min(level, maxLevel);
    }

    /**
     * Maps {@code key} to {@code value} (writer lock held); returns the previous value, or
     * {@code missing} if there was none.
     *
     * @param key the key
     * @param value its value
     * @param missing what to return when there is none
     * @return the previous value, or {@code missing}
     */
    public long put(long key, long value, long missing) {
        access.open();
        access.checkWriter("SkipList.put");
        long[] preds = new long[maxLevel];
        long x = head;
        long hops = 0;
        for (int i = maxLevel - 1; i >= 0; i--) {
            for (long n = nextOf(x, i); n != References.NULL && keyOf(n) < key; n = nextOf(x, i)) {
                x = n;
                if (++hops > maxNodes) {
                    throw access.cycle("the skip list at " + root, maxNodes);
                }
            }
            preds[i] = x;
        }
        long found = nextOf(x, 0);
        if (found != References.NULL && keyOf(found) == key) {
            long previous = access.data.get(LONG, access.offset(found) + NODE_VALUE_OFFSET);
            access.set(found, NODE_VALUE_OFFSET, value);
            return previous;
        }
        int level = randomLevel();
        long offset = heap.allocate(nodeSize(level));
        access.data.asSlice(offset, nodeSize(level)).fill((byte) 0);
        long node = access.ref(offset);
        access.set(node, NODE_KEY_OFFSET, key);
        access.set(node, NODE_VALUE_OFFSET, value);
        access.data.set(INT, offset + NODE_LEVEL_OFFSET, level);
        for (int i = 0; i < level; i++) {
            access.set(node, NODE_NEXT_OFFSET + 8L * i, nextOf(preds[i], i));
        }
        // the top level first: a reader that searches a level not linked yet finds the head's null
        // there and goes down, while a top level raised only after the links would hide the new node
        // from a search that starts below it
        if (level > access.data.get(INT, root + TOP_LEVEL_OFFSET)) {
            Access.INT_HANDLE.setRelease(access.data, root + TOP_LEVEL_OFFSET, level);
        }
        for (int i = 0; i < level; i++) { // bottom-up: a reader finds the node once level 0 links it
            access.setRelease(preds[i], NODE_NEXT_OFFSET + 8L * i, node);
        }
        Access.LONG_HANDLE.setRelease(access.data, root + COUNT_OFFSET, access.data.get(LONG, root + COUNT_OFFSET) + 1);
        return missing;
    }

    /** {@return the level-{@code level} successor of a checked node, itself checked (a node with more than {@code level} levels)} */
    private long nextOf(long node, int level) {
        long next = access.data.get(LONG, access.offset(node) + NODE_NEXT_OFFSET + 8L * level);
        if (next != References.NULL && !Access.inside(next, refBase, limits[level])) {
            throw badLink(next, level);
        }
        return next;
    }

    private long keyOf(long node) {
        return access.data.get(LONG, access.offset(node) + NODE_KEY_OFFSET);
    }

    private long valueOf(long node) {
        return access.data.get(LONG, access.offset(node) + NODE_VALUE_OFFSET);
    }

    /**
     * The search every lookup shares: the last node whose key is below {@code key} (or at most
     * {@code key} when {@code inclusive}), or the head. Allocation-free.
     */
    private long lower(long key, boolean inclusive) {
        MemorySegment d = access.open();
        // at least level 0, which the head always has: an empty list's top level is 0
        int top = Math.clamp((int) Access.INT_HANDLE.getAcquire(d, root + TOP_LEVEL_OFFSET), 1, maxLevel);
        // two call sites, so that C2 inlines a copy with the DIRECT delta as the constant 0
        long x = Access.SCOPED ? (direct && !access.checked ? lowerUnchecked(d, d.address(), head, top, key, inclusive)
                : lower(d, d.address(), head, top, key, inclusive, refBase, limits, direct ? 0L : access.delta, maxNodes, this))
            : !direct ? lower(ALL, 0L, head, top, key, inclusive, refBase, limits, access.delta, maxNodes, this)
            : access.checked ? lower(ALL, 0L, head, top, key, inclusive, refBase, limits, 0L, maxNodes, this)
            : lowerUnchecked(ALL, 0L, head, top, key, inclusive);
        access.confirm();
        return x;
    }

    /** A node a reference denotes is at {@code ref + delta} here, read through {@link Access#ALL}; each reference is checked first. */
    private static long lower(MemorySegment mem, long memBase, long head, int top, long key, boolean inclusive, long lo, long[] limits,
                              long delta, long maxNodes, SkipList list) {
        long x = head;
        long hops = 0;
        for (int i = top - 1; i >= 0; i--) {
            long link = delta + NODE_NEXT_OFFSET + 8L * i;
            long limit = limits[i];
            for (long n = mem.get(ANY_LONG, x + link - memBase); ; n = mem.get(ANY_LONG, x + link - memBase)) {
                if (!Access.inside(n, lo, limit)) {
                    if (n == References.NULL) {
                        break;
                    }
                    throw list.badLink(n, i);
                }
                long k = mem.get(ANY_LONG, n + delta + NODE_KEY_OFFSET - memBase);
                if (k > key || (k == key && !inclusive)) {
                    break;
                }
                x = n;
                if (++hops > maxNodes) {
                    throw list.access.cycle("the skip list at " + list.root, maxNodes);
                }
            }
        }
        return x;
    }

    private static long lowerUnchecked(MemorySegment mem, long memBase, long head, int top, long key, boolean inclusive) {
        long x = head;
        for (int i = top - 1; i >= 0; i--) {
            long link = NODE_NEXT_OFFSET + 8L * i;
            for (long n = mem.get(ANY_LONG, x + link - memBase); n != References.NULL; n = mem.get(ANY_LONG, x + link - memBase)) {
                long k = mem.get(ANY_LONG, n + NODE_KEY_OFFSET - memBase);
                if (k > key || (k == key && !inclusive)) {
                    break;
                }
                x = n;
            }
        }
        return x;
    }

    private RuntimeException badLink(long ref, int level) {
        return access.corrupt(ref, nodeSize(level + 1), "a level-" + level + " reference of the skip list at " + root);
    }

    /**
     * {@return the first node at or after {@code key}}: the successor of the node {@link #lower}
     * found, walked on along level 0 past any node a writer linked in between (the search compared
     * {@code key} with the successor it saw then, and a re-read can see a newer one).
     */
    private long ceiling(long key) {
        long n = nextOf(lower(key, false), 0);
        for (long hops = 0; n != References.NULL && keyOf(n) < key; n = nextOf(n, 0)) {
            if (++hops > maxNodes) {
                throw access.cycle("the skip list at " + root, maxNodes);
            }
        }
        return n;
    }

    /**
     * {@return the value of {@code key}, or {@code missing}}
     *
     * @param key the key
     * @param missing what to return when there is none
     */
    public long get(long key, long missing) {
        long n = ceiling(key);
        return n != References.NULL && keyOf(n) == key ? valueOf(n) : missing;
    }

    /**
     * {@return the greatest key at most {@code key}, or {@code missing}}
     *
     * @param key the key
     * @param missing what to return when there is none
     */
    public long floorKey(long key, long missing) {
        long n = lower(key, true);
        if (n == head) {
            return missing;
        }
        return keyOf(n);
    }

    /**
     * {@return the least key at least {@code key}, or {@code missing}}
     *
     * @param key the key
     * @param missing what to return when there is none
     */
    public long ceilingKey(long key, long missing) {
        long n = ceiling(key);
        return n == References.NULL ? missing : keyOf(n);
    }

    /**
     * {@return the value of the greatest key at most {@code key}, or {@code missing}}
     *
     * @param key the key
     * @param missing what to return when there is none
     */
    public long floorValue(long key, long missing) {
        long n = lower(key, true);
        return n == head ? missing : valueOf(n);
    }

    /**
     * {@return the smallest key, or {@code missing} if empty}
     *
     * @param missing what to return when there is none
     */
    public long firstKey(long missing) {
        access.open();
        long n = nextOf(head, 0);
        return n == References.NULL ? missing : keyOf(n);
    }

    /**
     * {@return the first node at or after {@code key} as a reference, for walking in order with {@link #nextNode}}
     *
     * @param key the key
     */
    public long ceilingNode(long key) {
        return ceiling(key);
    }

    /**
     * {@return the node after {@code node} in key order, or {@link References#NULL}}
     *
     * @param node a node's reference
     */
    public long nextNode(long node) {
        access.open();
        return nextOf(argument(node), 0);
    }

    /**
     * {@return the key of a node}
     *
     * @param node a node's reference
     */
    public long key(long node) {
        access.open();
        return keyOf(argument(node));
    }

    /**
     * {@return the value of a node}
     *
     * @param node a node's reference
     */
    public long value(long node) {
        access.open();
        return valueOf(argument(node));
    }

    private long argument(long node) {
        access.argument(node, nodeSize(1), "the node");
        return node;
    }

    /** {@return the number of keys (a hint while a writer puts)} */
    public long size() {
        return (long) Access.LONG_HANDLE.getAcquire(access.open(), root + COUNT_OFFSET);
    }

    /** {@return the data offset another process attaches by} */
    public long root() {
        return root;
    }

    @Override
    public String toString() {
        return "SkipList[root=" + root + ", size=" + size() + ", " + access.references + "]";
    }
}
