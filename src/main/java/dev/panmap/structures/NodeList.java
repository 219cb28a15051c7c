package dev.panmap.structures;

import static dev.panmap.structures.Access.ALL;
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
 * <p>Node handles are references ({@link References}); {@link References#NULL} ends the list.
 */
public final class NodeList {
    private final Access access;
    private final RegionHeap heap;
    private final long root;
    private final int nodeSize;

    private NodeList(Access access, RegionHeap heap, long root) {
        this.access = access;
        this.heap = heap;
        this.root = root;
        this.nodeSize = access.data.get(INT, root + NODE_SIZE_OFFSET);
    }

    /** Creates an empty list of {@code nodeSize}-byte nodes (a multiple of 8, at least 16) in {@code heap}. */
    public static NodeList create(RegionHeap heap, int nodeSize) {
        if (nodeSize < MIN_NODE_SIZE || nodeSize % StructureLayout.ALIGNMENT != 0) {
            throw new IllegalArgumentException("node size must be a multiple of 8, at least " + MIN_NODE_SIZE + ": nodeSize=" + nodeSize);
        }
        Access a = new Access(heap.region());
        long root = heap.allocate(SIZE);
        a.data.asSlice(root, SIZE).fill((byte) 0);
        a.data.set(INT, root + NODE_SIZE_OFFSET, nodeSize);
        a.data.set(LONG, root + HEAP_OFFSET, heap.root());
        StructureLayout.publish(a.data, root, MAGIC, VERSION);
        return new NodeList(a, heap, root);
    }

    /** Attaches to the list at data offset {@code root} of {@code region}. */
    public static NodeList attach(SharedRegion region, long root) {
        StructureLayout.check(region.segment(), root, MAGIC, VERSION, "node list");
        Access a = new Access(region);
        return new NodeList(a, RegionHeap.attach(region, a.data.get(LONG, root + HEAP_OFFSET)), root);
    }

    /** {@return the data offset another process attaches by} */
    public long root() {
        return root;
    }

    public int nodeSize() {
        return nodeSize;
    }

    /** {@return the number of linked nodes (a hint while a writer appends)} */
    public long size() {
        access.open();
        return (long) Access.LONG_HANDLE.getAcquire(access.data, root + COUNT_OFFSET);
    }

    /** Allocates a zeroed, unlinked node holding {@code value} and returns its reference. */
    public long newNode(long value) {
        access.open();
        long offset = heap.allocate(nodeSize);
        access.data.asSlice(offset, nodeSize).fill((byte) 0);
        long node = access.ref(offset);
        access.set(node, NODE_PAYLOAD_OFFSET, value);
        return node;
    }

    /** Links an unlinked node at the end (writer lock held). */
    public void append(long node) {
        access.open();
        access.checkWriter("NodeList.append");
        access.set(node, NODE_NEXT_OFFSET, References.NULL);
        long last = access.data.get(LONG, root + LAST_OFFSET);
        // a writer killed between linking a node and recording it as last left LAST behind: readers
        // already see that node, so walk on to the real end instead of linking over it
        if (last == References.NULL) {
            last = access.data.get(LONG, root + FIRST_OFFSET);
        }
        while (last != References.NULL && access.get(last, NODE_NEXT_OFFSET) != References.NULL) {
            last = access.get(last, NODE_NEXT_OFFSET);
        }
        if (last == References.NULL) {
            Access.LONG_HANDLE.setRelease(access.data, root + FIRST_OFFSET, node);
        } else {
            access.setRelease(last, NODE_NEXT_OFFSET, node);
        }
        access.data.set(LONG, root + LAST_OFFSET, node);
        Access.LONG_HANDLE.setRelease(access.data, root + COUNT_OFFSET, access.data.get(LONG, root + COUNT_OFFSET) + 1);
    }

    /** Allocates a node holding {@code value} and links it at the end (writer lock held); returns it. */
    public long add(long value) {
        long node = newNode(value);
        append(node);
        return node;
    }

    /** {@return the first node, or {@link References#NULL}} */
    public long first() {
        access.open();
        return (long) Access.LONG_HANDLE.getAcquire(access.data, root + FIRST_OFFSET);
    }

    /** {@return the node after {@code node}, or {@link References#NULL}} */
    public long next(long node) {
        access.open();
        return access.get(node, NODE_NEXT_OFFSET);
    }

    /** {@return the value (the first payload long) of {@code node}} */
    public long value(long node) {
        access.open();
        return access.get(node, NODE_PAYLOAD_OFFSET);
    }

    /** Sets the value of {@code node} (writer lock held once the node is linked). */
    public void setValue(long node, long value) {
        access.open();
        access.set(node, NODE_PAYLOAD_OFFSET, value);
    }

    /** {@return the data-area slice of a node's payload} (allocates a segment; not for hot loops) */
    public MemorySegment payload(long node) {
        access.open();
        return access.data.asSlice(access.offset(node) + NODE_PAYLOAD_OFFSET, nodeSize - NODE_PAYLOAD_OFFSET);
    }

    /**
     * Follows {@code steps} next references from {@code node}, going on at the first node after the
     * last, and returns the node reached: the pointer chase of the benchmark, and a ring iterator.
     * Allocation-free.
     */
    public long advance(long node, long steps) {
        access.open();
        long first = first();
        if (first == References.NULL) {
            throw new IllegalStateException("advance on an empty list");
        }
        long n = node == References.NULL ? first : node;
        if (access.direct) { // absolute addresses through a constant-base segment: one load per hop
            for (long i = 0; i < steps; i++) {
                n = ALL.get(LONG, n + NODE_NEXT_OFFSET);
                if (n == References.NULL) {
                    n = first;
                }
            }
        } else {
            MemorySegment d = access.data;
            long base = access.refBase;
            for (long i = 0; i < steps; i++) {
                n = d.get(LONG, n - base + NODE_NEXT_OFFSET);
                if (n == References.NULL) {
                    n = first;
                }
            }
        }
        return n;
    }

    /** {@return the sum of the values of all nodes} (a full traversal, allocation-free) */
    public long sum() {
        long s = 0;
        if (access.direct) {
            for (long n = first(); n != References.NULL; n = ALL.get(LONG, n + NODE_NEXT_OFFSET)) {
                s += ALL.get(LONG, n + NODE_PAYLOAD_OFFSET);
            }
        } else {
            MemorySegment d = access.data;
            long base = access.refBase;
            for (long n = first(); n != References.NULL; n = d.get(LONG, n - base + NODE_NEXT_OFFSET)) {
                s += d.get(LONG, n - base + NODE_PAYLOAD_OFFSET);
            }
        }
        return s;
    }

    @Override
    public String toString() {
        return "NodeList[root=" + root + ", nodeSize=" + nodeSize + ", size=" + size() + ", " + access.references + "]";
    }
}
