package dev.panmap.structures;

import static dev.panmap.structures.Access.ALL;
import static dev.panmap.structures.Access.ANY_LONG;
import static dev.panmap.structures.Access.INT;
import static dev.panmap.structures.Access.LONG;
import static dev.panmap.structures.StructureLayout.List.*;

import dev.panmap.References;
import dev.panmap.SharedRegion;
import java.lang.foreign.MemorySegment;

/**
 * A singly linked list of fixed-size nodes in a region ({@link StructureLayout.List}), written once
 * for both addressing modes: a DIRECT region stores absolute addresses as next references and
 * follows them as they are; an OFFSET region stores offsets. Nodes come from a {@link RegionHeap};
 * the list's root is a data offset another process attaches by.
 *
 * <p><b>Writers</b> ({@link #newNode}, {@link #append}, {@link #setValue} of a linked node) hold the
 * region's writer lock; {@link #append} checks it. <b>Readers</b> need no lock: a node is filled
 * before the release store that links it, so a reader sees it whole, and sees the list as it was at
 * some moment or a longer one. Nodes are never freed.
 *
 * <p>Node handles are references ({@link References}); {@link References#NULL} ends the list. Every
 * reference is checked before it is followed ({@link ReferenceChecking}): a node handle that is not
 * one is an {@link IllegalArgumentException}, a damaged link in the region a
 * {@link dev.panmap.ErrorKind#CORRUPT_REGION} exception, in both addressing modes.
 */
public final class NodeList {
    private final Access access;
    private final RegionHeap heap;
    private final long root;
    private final int nodeSize;
    /** {@link Access#limit} for whole nodes. */
    private final long limit;
    /** The most nodes the data area holds: a walk longer than this is a cycle. */
    private final long maxNodes;

    private NodeList(Access access, RegionHeap heap, long root) {
        this.access = access;
        this.heap = heap;
        this.root = root;
        this.nodeSize = access.data.get(INT, root + NODE_SIZE_OFFSET);
        // the DIRECT loops check references against this size: a damaged root must fail here
        if (nodeSize < MIN_NODE_SIZE || nodeSize % StructureLayout.ALIGNMENT != 0 || nodeSize > access.dataSize) {
            throw new dev.panmap.RegionException(dev.panmap.ErrorKind.CORRUPT_REGION, "the node list at offset " + root + " of "
                + access.region.name() + " is damaged: node size " + nodeSize);
        }
        this.limit = access.limit(nodeSize);
        this.maxNodes = access.dataSize / nodeSize;
    }

    /**
     * Creates an empty list of {@code nodeSize}-byte nodes (a multiple of 8, at least 16) in {@code heap}.
     *
     * @param heap the heap its header and nodes come from (in the region it lives in)
     * @param nodeSize the size of a node in bytes
     * @return the list
     */
    public static NodeList create(RegionHeap heap, int nodeSize) {
        if (nodeSize < MIN_NODE_SIZE || nodeSize % StructureLayout.ALIGNMENT != 0) {
            throw new IllegalArgumentException("node size must be a multiple of 8, at least " + MIN_NODE_SIZE + ": nodeSize=" + nodeSize);
        }
        Access a = new Access(heap.region(), ReferenceChecking.CHECKED);
        long root = heap.allocate(SIZE);
        a.data.asSlice(root, SIZE).fill((byte) 0);
        a.data.set(INT, root + NODE_SIZE_OFFSET, nodeSize);
        a.data.set(LONG, root + HEAP_OFFSET, heap.root());
        StructureLayout.publish(a.data, root, MAGIC, VERSION);
        return new NodeList(a, heap, root);
    }

    /**
     * Attaches to the list at data offset {@code root} of {@code region}, with every reference checked.
     *
     * @param region the region it lives in
     * @param root its data offset, as {@code root()} gave it
     * @return the list
     */
    public static NodeList attach(SharedRegion region, long root) {
        return attach(region, root, ReferenceChecking.CHECKED);
    }

    /**
     * Attaches to the list at data offset {@code root} of {@code region}; see {@link ReferenceChecking}.
     *
     * @param region the region it lives in
     * @param root its data offset, as {@code root()} gave it
     * @param checking whether every reference read is checked against the region's bounds
     * @return the list
     */
    public static NodeList attach(SharedRegion region, long root, ReferenceChecking checking) {
        StructureLayout.check(region.segment(), root, MAGIC, VERSION, "node list");
        Access a = new Access(region, checking);
        return new NodeList(a, StructureLayout.heapOf(region, root, HEAP_OFFSET, "node list"), root);
    }

    /** {@return the data offset another process attaches by} */
    public long root() {
        return root;
    }

    /** {@return the size of a node in bytes} */
    public int nodeSize() {
        return nodeSize;
    }

    /** {@return the number of linked nodes (a hint while a writer appends)} */
    public long size() {
        access.open();
        return (long) Access.LONG_HANDLE.getAcquire(access.data, root + COUNT_OFFSET);
    }

    /**
     * Allocates a zeroed, unlinked node holding {@code value} and returns its reference.
     *
     * @param value the node's value (its first payload long)
     * @return the new node's reference
     */
    public long newNode(long value) {
        access.open();
        long offset = heap.allocate(nodeSize);
        access.data.asSlice(offset, nodeSize).fill((byte) 0);
        long node = access.ref(offset);
        access.set(node, NODE_PAYLOAD_OFFSET, value);
        return node;
    }

    /**
     * Links an unlinked node at the end (writer lock held).
     *
     * @param node the reference of a node made by {@link #newNode} and not yet linked
     */
    public void append(long node) {
        access.open();
        access.checkWriter("NodeList.append");
        access.argument(node, nodeSize, "the node");
        access.set(node, NODE_NEXT_OFFSET, References.NULL);
        long last = checked(0, access.data.get(LONG, root + LAST_OFFSET));
        // a writer killed between linking a node and recording it as last left LAST behind: readers
        // already see that node, so walk on to the real end instead of linking over it
        if (last == References.NULL) {
            last = checked(0, access.data.get(LONG, root + FIRST_OFFSET));
        }
        for (long hops = 0; last != References.NULL; hops++) {
            long next = checked(last, access.data.get(LONG, access.offset(last) + NODE_NEXT_OFFSET));
            if (next == References.NULL) {
                break;
            }
            if (hops > maxNodes) {
                throw access.cycle("the node list at " + root, maxNodes);
            }
            last = next;
        }
        if (last == References.NULL) {
            Access.LONG_HANDLE.setRelease(access.data, root + FIRST_OFFSET, node);
        } else {
            access.setRelease(last, NODE_NEXT_OFFSET, node);
        }
        access.data.set(LONG, root + LAST_OFFSET, node);
        Access.LONG_HANDLE.setRelease(access.data, root + COUNT_OFFSET, access.data.get(LONG, root + COUNT_OFFSET) + 1);
    }

    /**
     * Allocates a node holding {@code value} and links it at the end (writer lock held); returns it.
     *
     * @param value the node's value (its first payload long)
     * @return the new node's reference
     */
    public long add(long value) {
        long node = newNode(value);
        append(node);
        return node;
    }

    /** {@return the first node, or {@link References#NULL}} */
    public long first() {
        access.open();
        return firstChecked();
    }

    private long firstChecked() {
        return checked(0, (long) Access.LONG_HANDLE.getAcquire(access.data, root + FIRST_OFFSET));
    }

    /** {@return {@code ref}, read from {@code from} (0: from the list's root), once it is null or a whole node of the data area} */
    private long checked(long from, long ref) {
        if (ref != References.NULL && !Access.inside(ref, access.refBase, limit)) {
            throw badLink(from, ref);
        }
        return ref;
    }

    /**
     * {@return the node after {@code node}, or {@link References#NULL}}
     *
     * @param node a node's reference
     */
    public long next(long node) {
        access.open();
        return checked(node, access.data.get(LONG, access.argument(node, nodeSize, "the node") + NODE_NEXT_OFFSET));
    }

    /**
     * {@return the value (the first payload long) of {@code node}}
     *
     * @param node a node's reference
     */
    public long value(long node) {
        access.open();
        return access.data.get(LONG, access.argument(node, nodeSize, "the node") + NODE_PAYLOAD_OFFSET);
    }

    /**
     * Sets the value of {@code node} (writer lock held once the node is linked).
     *
     * @param node a node's reference
     * @param value its new value
     */
    public void setValue(long node, long value) {
        access.open();
        access.data.set(LONG, access.argument(node, nodeSize, "the node") + NODE_PAYLOAD_OFFSET, value);
    }

    /**
     * {@return the data-area slice of a node's payload} (allocates a segment; not for hot loops)
     *
     * @param node a node's reference
     */
    public MemorySegment payload(long node) {
        access.open();
        return access.data.asSlice(access.argument(node, nodeSize, "the node") + NODE_PAYLOAD_OFFSET, nodeSize - NODE_PAYLOAD_OFFSET);
    }

    /**
     * Follows {@code steps} next references from {@code node}, going on at the first node after the
     * last, and returns the node reached: the pointer chase of the benchmark, and a ring iterator.
     * Allocation-free.
     *
     * @param node the reference of the node to start from
     * @param steps how many links to follow
     * @return the reference of the node reached
     */
    public long advance(long node, long steps) {
        MemorySegment d = access.open();
        long first = firstChecked();
        if (first == References.NULL) {
            throw new IllegalStateException("advance on an empty list");
        }
        long n = node == References.NULL ? first : node;
        access.argument(n, nodeSize, "the node");
        long lo = access.refBase;
        // two call sites, so that C2 inlines a copy with the DIRECT delta as the constant 0: one load per hop
        n = Access.SCOPED ? (access.direct && !access.checked ? chaseUnchecked(d, d.address(), n, steps, first)
                : chase(d, d.address(), n, steps, first, lo, limit, access.direct ? 0L : access.delta, this))
            : !access.direct ? chase(ALL, 0L, n, steps, first, lo, limit, access.delta, this)
            : access.checked ? chase(ALL, 0L, n, steps, first, lo, limit, 0L, this)
            : chaseUnchecked(ALL, 0L, n, steps, first);
        access.confirm();
        return n;
    }

    /**
     * The chase: the node a reference denotes is at {@code ref + delta} in this process (0 for a
     * DIRECT region at its base), read through {@link Access#ALL}; each reference is checked before
     * it is followed, by a branch beside the load chain.
     */
    private static long chase(MemorySegment mem, long memBase, long n, long steps, long first, long lo, long limit, long delta,
                              NodeList list) {
        for (long i = 0; i < steps; i++) {
            long next = mem.get(ANY_LONG, n + delta + NODE_NEXT_OFFSET - memBase);
            if (!Access.inside(next, lo, limit)) {
                if (next != References.NULL) {
                    throw list.badLink(n, next);
                }
                next = first;
            }
            n = next;
        }
        return n;
    }

    private static long chaseUnchecked(MemorySegment mem, long memBase, long n, long steps, long first) {
        for (long i = 0; i < steps; i++) {
            n = mem.get(ANY_LONG, n + NODE_NEXT_OFFSET - memBase);
            if (n == References.NULL) {
                n = first;
            }
        }
        return n;
    }

    /** {@return the sum of the values of all nodes} (a full traversal, allocation-free) */
    public long sum() {
        MemorySegment d = access.open();
        long first = firstChecked();
        long lo = access.refBase;
        long s = Access.SCOPED ? sum(d, d.address(), first, lo, !access.direct || access.checked ? limit : -1L,
                access.direct ? 0L : access.delta, maxNodes, this)
            : !access.direct ? sum(ALL, 0L, first, lo, limit, access.delta, maxNodes, this)
            : sum(ALL, 0L, first, lo, access.checked ? limit : -1L, 0L, maxNodes, this); // limit -1 (unsigned max) checks nothing
        access.confirm();
        return s;
    }

    private static long sum(MemorySegment mem, long memBase, long n, long lo, long limit, long delta, long maxNodes, NodeList list) {
        long s = 0;
        for (long hops = 0; n != References.NULL; n = mem.get(ANY_LONG, n + delta + NODE_NEXT_OFFSET - memBase)) {
            if (!Access.inside(n, lo, limit)) {
                throw list.badLink(0, n);
            }
            if (++hops > maxNodes) {
                throw list.access.cycle("the node list at " + list.root, maxNodes);
            }
            s += mem.get(ANY_LONG, n + delta + NODE_PAYLOAD_OFFSET - memBase);
        }
        return s;
    }

    /** The exception for a bad next reference {@code next} read from {@code node} (0: from the list or a node before). */
    private RuntimeException badLink(long node, long next) {
        return access.corrupt(next, nodeSize, node == 0 ? "a next reference of the node list at " + root
            : "the next reference of node 0x" + Long.toHexString(node) + " of the node list at " + root);
    }

    @Override
    public String toString() {
        return "NodeList[root=" + root + ", nodeSize=" + nodeSize + ", size=" + size() + ", " + access.references + "]";
    }
}
