package dev.panmap.structures;

import static dev.panmap.structures.Access.LONG;
import static dev.panmap.structures.Access.LONG_HANDLE;
import static dev.panmap.structures.StructureLayout.Heap.*;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import java.lang.foreign.MemorySegment;

/**
 * A bump allocator inside a region's data area: it hands out 8-aligned blocks of
 * {@code [start, end)} and never takes them back. Its state is one word in the region
 * ({@link StructureLayout.Heap}), advanced by compare-and-set, so threads and processes may allocate
 * at the same time without the writer lock. Memory handed out is zero if the region was (a new
 * region is).
 *
 * <pre>{@code
 * RegionHeap heap = RegionHeap.create(region, 0, region.size());   // heap header at data offset 0
 * long block = heap.allocate(64);                                   // a data offset
 * // another process:
 * RegionHeap same = RegionHeap.attach(region, 0);
 * }</pre>
 */
public final class RegionHeap {
    private final SharedRegion region;
    private final MemorySegment data;
    private final long root;
    private final long start;

    private RegionHeap(SharedRegion region, long root) {
        this.region = region;
        this.data = region.segment();
        this.root = root;
        this.start = data.get(LONG, root + START_OFFSET);
    }

    /**
     * Creates a heap whose header sits at data offset {@code root} and which hands out the rest of
     * {@code [root, root + length)}.
     *
     * @param region the region it lives in
     * @param root the data offset of its header, 8-aligned
     * @param length the bytes it covers from {@code root}, header included
     * @return the heap
     */
    public static RegionHeap create(SharedRegion region, long root, long length) {
        MemorySegment data = region.segment();
        if (root < 0 || root % StructureLayout.ALIGNMENT != 0 || length < SIZE || root > data.byteSize() - length) {
            throw new IllegalArgumentException("a heap needs an 8-aligned range of at least " + SIZE
                + " bytes inside the data area (" + data.byteSize() + " bytes): root=" + root + ", length=" + length);
        }
        data.asSlice(root, SIZE).fill((byte) 0);
        data.set(LONG, root + START_OFFSET, root + SIZE);
        data.set(LONG, root + END_OFFSET, root + length);
        data.set(LONG, root + BUMP_OFFSET, root + SIZE);
        StructureLayout.publish(data, root, MAGIC, VERSION);
        return new RegionHeap(region, root);
    }

    /**
     * Attaches to the heap whose header is at data offset {@code root}.
     *
     * @param region the region it lives in
     * @param root the data offset of its header
     * @return the heap
     */
    public static RegionHeap attach(SharedRegion region, long root) {
        StructureLayout.check(region.segment(), root, MAGIC, VERSION, "heap");
        return new RegionHeap(region, root);
    }

    /**
     * Allocates {@code bytes} (rounded up to 8) and returns the block's data offset.
     *
     * @throws RegionException {@link ErrorKind#NO_SPACE} if the heap has not that much left
     * @param bytes how many bytes, at least 1
     * @return the block's data offset
     */
    public long allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("allocation size must be positive: bytes=" + bytes);
        }
        long size = (bytes + StructureLayout.ALIGNMENT - 1) & -StructureLayout.ALIGNMENT;
        MemorySegment d = region.segment();
        while (true) {
            long end = (long) LONG_HANDLE.getAcquire(d, root + END_OFFSET); // raised by extend(), after the region grew
            long at = (long) LONG_HANDLE.getVolatile(d, root + BUMP_OFFSET);
            if (at < start || at > end || (at & (StructureLayout.ALIGNMENT - 1)) != 0 || end > d.byteSize()) {
                // never written by allocate/extend: a block there would be outside the heap, over other data
                throw new RegionException(ErrorKind.CORRUPT_REGION, "the heap at data offset " + root + " of " + region.name()
                    + " is damaged: next block at " + at + ", end " + end + ", start " + start + ", data area " + d.byteSize() + " bytes");
            }
            if (size > end - at) {
                throw new RegionException(ErrorKind.NO_SPACE, "heap at data offset " + root + " of " + region.name()
                    + " is full: " + bytes + " bytes asked, " + (end - at) + " of " + (end - start) + " left");
            }
            if (LONG_HANDLE.compareAndSet(d, root + BUMP_OFFSET, at, at + size)) {
                return at;
            }
        }
    }

    /** {@return the data offset of this heap's header} */
    public long root() {
        return root;
    }

    /** {@return the bytes handed out so far} */
    public long used() {
        return (long) LONG_HANDLE.getVolatile(region.segment(), root + BUMP_OFFSET) - start;
    }

    /** {@return the bytes left} */
    public long remaining() {
        MemorySegment d = region.segment();
        return (long) LONG_HANDLE.getAcquire(d, root + END_OFFSET) - (long) LONG_HANDLE.getVolatile(d, root + BUMP_OFFSET);
    }

    /**
     * Lets the heap use the data area up to {@code newEnd} (a data offset), after the region grew
     * ({@link SharedRegion#grow}): the heap's end is raised with a release store, and every process's
     * next {@link #allocate} may allocate up to it. Only upwards, under the writer lock.
     *
     * <pre>{@code
     * try (var held = region.writerLock().hold()) {
     *     region.grow(region.size() * 2);
     *     heap.extend(region.size());
     * }
     * }</pre>
     *
     * @param newEnd the new end, a data offset, at most the region's size
     */
    public void extend(long newEnd) {
        if (!region.writerLock().isHeldByCurrentThread()) {
            throw new IllegalStateException("extending a heap changes a shared structure: hold region.writerLock() (" + region.name() + ") around it");
        }
        MemorySegment d = region.segment();
        long end = (long) LONG_HANDLE.getAcquire(d, root + END_OFFSET);
        if (newEnd < end || newEnd > d.byteSize() || newEnd % StructureLayout.ALIGNMENT != 0) {
            throw new IllegalArgumentException("a heap's end only moves up, 8-aligned, within the data area (" + d.byteSize()
                + " bytes): end=" + end + ", newEnd=" + newEnd);
        }
        LONG_HANDLE.setRelease(d, root + END_OFFSET, newEnd);
    }

    /** {@return the region this heap lives in} */
    public SharedRegion region() {
        return region;
    }

    @Override
    public String toString() {
        return "RegionHeap[root=" + root + ", used=" + used() + ", remaining=" + remaining() + "]";
    }
}
