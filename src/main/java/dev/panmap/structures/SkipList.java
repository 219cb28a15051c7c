package dev.panmap.structures;

import static dev.panmap.structures.Access.ALL;
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
 * finds it from level 0 on as soon as level 0 is linked, and never follows a half-made node.
 */
public final class SkipList {
    private final Access access;
    // copied out of access: one dependent load less per lookup
    private final MemorySegment data;
    private final boolean direct;
    private final long refBase;
    private final RegionHeap heap;
    private final long root;
    private final long head;
    private final int maxLevel;

    private SkipList(Access access, RegionHeap heap, long root) {
        this.access = access;
        this.data = access.data;
        this.direct = access.direct;
        this.refBase = access.refBase;
        this.heap = heap;
        this.root = root;
        this.head = access.data.get(LONG, root + HEAD_OFFSET);
        this.maxLevel = access.data.get(INT, root + MAX_LEVEL_OFFSET);
        long headOffset = access.offset(head);
        // the DIRECT loop reads through an unbounded segment: a damaged root must fail here, not there
        if (maxLevel < 1 || maxLevel > MAX_LEVEL || headOffset < 0 || headOffset > access.data.byteSize() - nodeSize(maxLevel)) {
            throw new dev.panmap.RegionException(dev.panmap.ErrorKind.CORRUPT_REGION, "the skip list at offset " + root + " of "
                + access.region.name() + " is damaged: " + maxLevel + " levels, head at offset " + headOffset);
        }
    }

    /** Creates an empty skip list in {@code heap} (up to {@link StructureLayout.Skip#MAX_LEVEL} levels). */
    public static SkipList create(RegionHeap heap) {
        Access a = new Access(heap.region());
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

    /** Attaches to the skip list at data offset {@code root} of {@code region}. */
    public static SkipList attach(SharedRegion region, long root) {
        StructureLayout.check(region.segment(), root, MAGIC, VERSION, "skip list");
        Access a = new Access(region);
        return new SkipList(a, RegionHeap.attach(region, a.data.get(LONG, root + HEAP_OFFSET)), root);
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
     */
    public long put(long key, long value, long missing) {
        access.open();
        access.checkWriter("SkipList.put");
        long[] preds = new long[maxLevel];
        long x = head;
        for (int i = maxLevel - 1; i >= 0; i--) {
            for (long n = nextOf(x, i); n != References.NULL && access.get(n, NODE_KEY_OFFSET) < key; n = nextOf(x, i)) {
                x = n;
            }
            preds[i] = x;
        }
        long found = nextOf(x, 0);
        if (found != References.NULL && access.get(found, NODE_KEY_OFFSET) == key) {
            long previous = access.get(found, NODE_VALUE_OFFSET);
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
        for (int i = 0; i < level; i++) { // bottom-up: a reader finds the node once level 0 links it
            access.setRelease(preds[i], NODE_NEXT_OFFSET + 8L * i, node);
        }
        if (level > access.data.get(INT, root + TOP_LEVEL_OFFSET)) {
            Access.INT_HANDLE.setRelease(access.data, root + TOP_LEVEL_OFFSET, level);
        }
        Access.LONG_HANDLE.setRelease(access.data, root + COUNT_OFFSET, access.data.get(LONG, root + COUNT_OFFSET) + 1);
        return missing;
    }

    private long nextOf(long node, int level) {
        return access.get(node, NODE_NEXT_OFFSET + 8L * level);
    }

    /**
     * The search every lookup shares: the last node whose key is below {@code key} (or at most
     * {@code key} when {@code inclusive}), or the head. Allocation-free; written once per mode.
     */
    private long lower(long key, boolean inclusive) {
        MemorySegment d = direct ? access.open() : data; // the segment checks by itself that the region is open
        int top = Math.clamp((int) Access.INT_HANDLE.getAcquire(d, root + TOP_LEVEL_OFFSET), 0, maxLevel);
        return direct ? lowerDirect(head, top, key, inclusive) : lowerOffset(d, refBase, head, top, key, inclusive);
    }

    private static long lowerDirect(long head, int top, long key, boolean inclusive) {
        long x = head;
        for (int i = top - 1; i >= 0; i--) {
            long link = NODE_NEXT_OFFSET + 8L * i;
            for (long n = ALL.get(LONG, x + link); n != References.NULL; n = ALL.get(LONG, x + link)) {
                long k = ALL.get(LONG, n + NODE_KEY_OFFSET);
                if (k > key || (k == key && !inclusive)) {
                    break;
                }
                x = n;
            }
        }
        return x;
    }

    private static long lowerOffset(MemorySegment d, long base, long head, int top, long key, boolean inclusive) {
        long x = head;
        for (int i = top - 1; i >= 0; i--) {
            long link = NODE_NEXT_OFFSET + 8L * i - base;
            for (long n = d.get(LONG, x + link); n != References.NULL; n = d.get(LONG, x + link)) {
                long k = d.get(LONG, n - base + NODE_KEY_OFFSET);
                if (k > key || (k == key && !inclusive)) {
                    break;
                }
                x = n;
            }
        }
        return x;
    }

    /** {@return the value of {@code key}, or {@code missing}} */
    public long get(long key, long missing) {
        long n = access.get(lower(key, false), NODE_NEXT_OFFSET);
        return n != References.NULL && access.get(n, NODE_KEY_OFFSET) == key ? access.get(n, NODE_VALUE_OFFSET) : missing;
    }

    /** {@return the greatest key at most {@code key}, or {@code missing}} */
    public long floorKey(long key, long missing) {
        long n = lower(key, true);
        if (n == head) {
            return missing;
        }
        return direct ? ALL.get(LONG, n + NODE_KEY_OFFSET) : data.get(LONG, n - refBase + NODE_KEY_OFFSET);
    }

    /** {@return the least key at least {@code key}, or {@code missing}} */
    public long ceilingKey(long key, long missing) {
        long n = access.get(lower(key, false), NODE_NEXT_OFFSET);
        return n == References.NULL ? missing : access.get(n, NODE_KEY_OFFSET);
    }

    /** {@return the value of the greatest key at most {@code key}, or {@code missing}} */
    public long floorValue(long key, long missing) {
        long n = lower(key, true);
        return n == head ? missing : access.get(n, NODE_VALUE_OFFSET);
    }

    /** {@return the smallest key, or {@code missing} if empty} */
    public long firstKey(long missing) {
        access.open();
        long n = access.get(head, NODE_NEXT_OFFSET);
        return n == References.NULL ? missing : access.get(n, NODE_KEY_OFFSET);
    }

    /** {@return the first node at or after {@code key} as a reference, for walking in order with {@link #nextNode}} */
    public long ceilingNode(long key) {
        return access.get(lower(key, false), NODE_NEXT_OFFSET);
    }

    /** {@return the node after {@code node} in key order, or {@link References#NULL}} */
    public long nextNode(long node) {
        access.open();
        return access.get(node, NODE_NEXT_OFFSET);
    }

    /** {@return the key of a node} */
    public long key(long node) {
        access.open();
        return access.get(node, NODE_KEY_OFFSET);
    }

    /** {@return the value of a node} */
    public long value(long node) {
        access.open();
        return access.get(node, NODE_VALUE_OFFSET);
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
