package dev.panmap.structures;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The on-region layouts of the structures in this package: the one place that says where every
 * field lives. Offsets are bytes from the structure's root (its data-area offset); values are
 * native order (little-endian on x86_64). Every structure starts with a magic and a version; an
 * attaching process refuses a root whose magic or version differs. <strong>Any change to a layout
 * below must change that structure's {@code VERSION}.</strong>
 *
 * <p>A <em>reference</em> is 8 bytes as {@link dev.panmap.References} defines it: the absolute
 * address in a DIRECT region, the distance from the region start in an OFFSET region; 0 is null.
 *
 * <h2>Why readers may read while a writer writes</h2>
 * Writers hold the region's writer lock, so there is one writer at a time across all processes. A
 * writer fills a new node or slot completely with plain stores and then makes it reachable with one
 * release store (of the predecessor's next reference, or of a slot's key), so a reader that reaches
 * it sees it whole. Readers use plain loads along reference chains (each load depends on the one
 * before, which no x86-64 or AArch64 core reorders) and an acquire fence after reading a hash key.
 * Counts in headers are updated after publication and are hints for readers.
 */
public final class StructureLayout {
    private StructureLayout() {}

    /** Every structure root and every allocation is aligned to this. */
    public static final int ALIGNMENT = 8;

    /**
     * {@link RegionHeap}: a bump allocator over {@code [start, end)} of the data area.
     * <pre>
     *   0                   1                   2                   3
     *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
     *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
     *  |                  magic "PMHEAP\0\0" (8)                       | 0   written last (release)
     *  |          version (4)          |          reserved (4)         | 8
     *  |                   start: data offset (8)                      | 16  first byte handed out
     *  |                    end: data offset (8)                       | 24  one past the last
     *  |                    bump: data offset (8)                      | 32  next free byte; CAS
     *  |                       reserved (24)                           | 40
     *  +---------------------------------------------------------------+ 64
     * </pre>
     */
    public static final class Heap {
        private Heap() {}
        /** The magic, "PMHEAP" in ASCII, zero-padded to 8 bytes, little-endian; stored last, when the structure is whole. */
        public static final long MAGIC = magic("PMHEAP");
        /** The layout version; an attaching process refuses any other. */
        public static final int VERSION = 1;
        /** Where the start field is, in bytes from the root. */
        public static final int START_OFFSET = 16;
        /** Where the end field is, in bytes from the root. */
        public static final int END_OFFSET = 24;
        /** Where the bump field is, in bytes from the root. */
        public static final int BUMP_OFFSET = 32;
        /** The size of the header in bytes. */
        public static final int SIZE = 64;
    }

    /**
     * {@link NodeList}: a singly linked list of fixed-size nodes.
     * <pre>
     *  header                                                           root +
     *  |                  magic "PMLIST\0\0" (8)                       | 0   written last (release)
     *  |          version (4)          |        node size (4)          | 8
     *  |                     first: reference (8)                      | 16  0 when empty
     *  |                     last: reference (8)                       | 24
     *  |                         count (8)                             | 32  a hint for readers
     *  |                  heap root: data offset (8)                   | 40  where nodes come from
     *  |                       reserved (16)                           | 48
     *  +---------------------------------------------------------------+ 64
     *  node (node size bytes, 8-aligned)
     *  |                     next: reference (8)                       | 0   0 at the end
     *  |                  payload (node size - 8)                      | 8   the value is its first long
     * </pre>
     */
    public static final class List {
        private List() {}
        /** The magic, "PMLIST" in ASCII, zero-padded to 8 bytes, little-endian; stored last, when the structure is whole. */
        public static final long MAGIC = magic("PMLIST");
        /** The layout version; an attaching process refuses any other. */
        public static final int VERSION = 1;
        /** Where the node size field is, in bytes from the root. */
        public static final int NODE_SIZE_OFFSET = 12;
        /** Where the first field is, in bytes from the root. */
        public static final int FIRST_OFFSET = 16;
        /** Where the last field is, in bytes from the root. */
        public static final int LAST_OFFSET = 24;
        /** Where the count field is, in bytes from the root. */
        public static final int COUNT_OFFSET = 32;
        /** Where the heap root field is, in bytes from the root. */
        public static final int HEAP_OFFSET = 40;
        /** The size of the header in bytes. */
        public static final int SIZE = 64;
        /** Where a node's next field is, in bytes from the node's start. */
        public static final int NODE_NEXT_OFFSET = 0;
        /** Where a node's payload field is, in bytes from the node's start. */
        public static final int NODE_PAYLOAD_OFFSET = 8;
        /** The smallest node: the next reference and one long of payload. */
        public static final int MIN_NODE_SIZE = 16;
    }

    /**
     * {@link HashIndex}: open addressing with linear probing, {@code long} keys to {@code long}
     * values; key 0 marks an empty slot.
     * <pre>
     *  header                                                           root +
     *  |                  magic "PMHASH\0\0" (8)                       | 0   written last (release)
     *  |          version (4)          |          reserved (4)         | 8
     *  |                capacity: slots, a power of two (8)            | 16
     *  |                         count (8)                             | 24  a hint for readers
     *  |                     table: reference (8)                      | 32
     *  |                       reserved (24)                           | 40
     *  +---------------------------------------------------------------+ 64
     *  table: capacity x 16-byte slots
     *  |                   key (8): 0 = empty                          | 0   stored last (release)
     *  |                        value (8)                              | 8
     * </pre>
     */
    public static final class Hash {
        private Hash() {}
        /** The magic, "PMHASH" in ASCII, zero-padded to 8 bytes, little-endian; stored last, when the structure is whole. */
        public static final long MAGIC = magic("PMHASH");
        /** The layout version; an attaching process refuses any other. */
        public static final int VERSION = 1;
        /** Where the capacity field is, in bytes from the root. */
        public static final int CAPACITY_OFFSET = 16;
        /** Where the count field is, in bytes from the root. */
        public static final int COUNT_OFFSET = 24;
        /** Where the table field is, in bytes from the root. */
        public static final int TABLE_OFFSET = 32;
        /** The size of the header in bytes. */
        public static final int SIZE = 64;
        /** The size of a table slot in bytes. */
        public static final int SLOT_SIZE = 16;
        /** Where a slot's key field is, in bytes from the slot's start. */
        public static final int SLOT_KEY_OFFSET = 0;
        /** Where a slot's value field is, in bytes from the slot's start. */
        public static final int SLOT_VALUE_OFFSET = 8;
    }

    /**
     * {@link SkipList}: an ordered map of {@code long} keys (signed order) to {@code long} values.
     * <pre>
     *  header                                                           root +
     *  |                  magic "PMSKIP\0\0" (8)                       | 0   written last (release)
     *  |          version (4)          |        max level (4)          | 8
     *  |                         count (8)                             | 16  a hint for readers
     *  |                     head: reference (8)                       | 24  a node of max level, no key
     *  |                  heap root: data offset (8)                   | 32
     *  |                  level-generator state (8)                    | 40  writers only
     *  |        top level (4)          |          reserved (4)         | 48  highest level in use
     *  |                       reserved (8)                            | 56
     *  +---------------------------------------------------------------+ 64
     *  node (24 + 8 x level bytes)
     *  |                          key (8)                              | 0
     *  |                         value (8)                             | 8
     *  |          level (4)            |          reserved (4)         | 16
     *  |             next[0 .. level-1]: references (8 each)           | 24  next[i] links level i
     * </pre>
     */
    public static final class Skip {
        private Skip() {}
        /** The magic, "PMSKIP" in ASCII, zero-padded to 8 bytes, little-endian; stored last, when the structure is whole. */
        public static final long MAGIC = magic("PMSKIP");
        /** The layout version; an attaching process refuses any other. */
        public static final int VERSION = 1;
        /** Where the max level field is, in bytes from the root. */
        public static final int MAX_LEVEL_OFFSET = 12;
        /** Where the count field is, in bytes from the root. */
        public static final int COUNT_OFFSET = 16;
        /** Where the head field is, in bytes from the root. */
        public static final int HEAD_OFFSET = 24;
        /** Where the heap root field is, in bytes from the root. */
        public static final int HEAP_OFFSET = 32;
        /** Where the level generator's state is, in bytes from the root. */
        public static final int RANDOM_OFFSET = 40;
        /** Where the top level field is, in bytes from the root. */
        public static final int TOP_LEVEL_OFFSET = 48;
        /** The size of the header in bytes. */
        public static final int SIZE = 64;
        /** Where a node's key field is, in bytes from the node's start. */
        public static final int NODE_KEY_OFFSET = 0;
        /** Where a node's value field is, in bytes from the node's start. */
        public static final int NODE_VALUE_OFFSET = 8;
        /** Where a node's level field is, in bytes from the node's start. */
        public static final int NODE_LEVEL_OFFSET = 16;
        /** Where a node's next field is, in bytes from the node's start. */
        public static final int NODE_NEXT_OFFSET = 24;
        /** The most levels a node may have. */
        public static final int MAX_LEVEL = 24;

        /**
         * {@return the size of a node with {@code level} next references}
         *
         * @param level the number of levels, 1 to {@link #MAX_LEVEL}
         */
        public static long nodeSize(int level) {
            return NODE_NEXT_OFFSET + 8L * level;
        }
    }

    /** Where every header keeps its magic (8 bytes). */
    public static final int MAGIC_OFFSET = 0;
    /** Where every header keeps its layout version (4 bytes). */
    public static final int VERSION_OFFSET = 8;

    /** {@return up to 8 ASCII characters read as a little-endian long, zero-padded} */
    static long magic(String text) {
        long m = 0;
        for (int i = text.length() - 1; i >= 0; i--) {
            m = (m << 8) | (text.charAt(i) & 0xFF);
        }
        return m;
    }

    /** Checks the magic and version of a structure root before anything else is trusted. */
    static void check(MemorySegment data, long root, long magic, int version, String what) {
        if (root < 0 || root % ALIGNMENT != 0 || root > data.byteSize() - 16) {
            throw new IllegalArgumentException(what + " root must be an 8-aligned data offset inside the region: root=" + root);
        }
        long found = (long) ValueLayout.JAVA_LONG.varHandle().getAcquire(data, root + MAGIC_OFFSET);
        if (found != magic) {
            throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, "no " + what + " at data offset " + root
                + ": magic 0x" + Long.toHexString(found) + ", expected 0x" + Long.toHexString(magic));
        }
        int v = data.get(ValueLayout.JAVA_INT, root + VERSION_OFFSET);
        if (v != version) {
            throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, what + " at data offset " + root
                + " has layout version " + v + "; this panmap reads version " + version);
        }
    }

    /**
     * {@return the heap whose header offset a structure's header at {@code root} stores at {@code field}}:
     * a value the region holds, so one that is no place for a heap is damage ({@code CORRUPT_REGION}),
     * not a caller's bad argument
     */
    static RegionHeap heapOf(dev.panmap.SharedRegion region, long root, int field, String what) {
        MemorySegment data = region.segment();
        long heap = data.get(ValueLayout.JAVA_LONG, root + field);
        if (heap < 0 || heap % ALIGNMENT != 0 || heap > data.byteSize() - 16) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, "the " + what + " at data offset " + root + " of " + region.name()
                + " is damaged: its heap is at offset " + heap + ", outside the " + data.byteSize() + "-byte data area or not 8-aligned");
        }
        return RegionHeap.attach(region, heap);
    }

    /** Writes the version, then the magic with a release store: the header is published. */
    static void publish(MemorySegment data, long root, long magic, int version) {
        data.set(ValueLayout.JAVA_INT, root + VERSION_OFFSET, version);
        ValueLayout.JAVA_LONG.varHandle().setRelease(data, root + MAGIC_OFFSET, magic);
    }
}
