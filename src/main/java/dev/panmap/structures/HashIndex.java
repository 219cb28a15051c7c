package dev.panmap.structures;

import static dev.panmap.structures.Access.ALL;
import static dev.panmap.structures.Access.ANY_LONG;
import static dev.panmap.structures.Access.LONG;
import static dev.panmap.structures.StructureLayout.Hash.*;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * A hash index in a region ({@link StructureLayout.Hash}): open addressing with linear probing over
 * a fixed table of 16-byte slots, {@code long} keys to {@code long} values. Key 0 is reserved (it
 * marks an empty slot). The table does not grow: it takes at most 3/4 of its capacity in keys and
 * then refuses with {@link ErrorKind#NO_SPACE}. Keys are not removed.
 *
 * <p>The header holds a reference to the table, stored as the region's addressing mode says; a
 * DIRECT region's lookups read the table through its absolute address.
 *
 * <p><b>Writers</b> ({@link #put}) hold the region's writer lock (checked). <b>Readers</b> need no
 * lock: a new slot's value is stored before its key (release), and a reader that finds the key
 * fences (acquire) before it reads the value. An update of an existing key's value is one 8-byte
 * store: a reader sees the old or the new value.
 */
public final class HashIndex {
    private final Access access;
    // copied out of access: one dependent load less per lookup, which shows after each acquire fence
    private final long root;
    private final long mask;
    private final long tableRef;
    private final long tableOffset;
    /** The table's address in this process (its stored reference, translated). */
    private final long tableAddress;

    private HashIndex(Access access, long root) {
        this.access = access;
        this.root = root;
        long capacity = access.data.get(LONG, root + CAPACITY_OFFSET);
        this.mask = capacity - 1;
        this.tableRef = access.data.get(LONG, root + TABLE_OFFSET);
        this.tableOffset = access.offset(tableRef);
        this.tableAddress = tableRef + access.delta;
        // the DIRECT loop reads through an unbounded segment: a damaged root must fail here, not there
        if (capacity < 4 || Long.bitCount(capacity) != 1 || capacity > access.data.byteSize() / SLOT_SIZE
            || tableOffset < 0 || tableOffset > access.data.byteSize() - capacity * SLOT_SIZE || (tableOffset & 7) != 0) {
            throw new dev.panmap.RegionException(dev.panmap.ErrorKind.CORRUPT_REGION, "the hash index at offset " + root + " of "
                + access.region.name() + " is damaged: capacity " + capacity + ", table at offset " + tableOffset);
        }
    }

    /**
     * Creates an empty index with room for {@code expectedKeys} (the capacity is the power of two that keeps the load at most 3/4).
     *
     * @param heap the heap its header and table come from (in the region it lives in)
     * @param expectedKeys how many keys it should hold
     * @return the index
     */
    public static HashIndex create(RegionHeap heap, long expectedKeys) {
        if (expectedKeys <= 0 || expectedKeys > (1L << 56)) {
            throw new IllegalArgumentException("expected keys must be in [1, 2^56]: expectedKeys=" + expectedKeys);
        }
        long capacity = Long.highestOneBit(Math.max(4, (expectedKeys * 4 + 2) / 3) - 1) << 1;
        Access a = new Access(heap.region(), ReferenceChecking.CHECKED);
        long root = heap.allocate(SIZE);
        long table = heap.allocate(capacity * SLOT_SIZE);
        a.data.asSlice(root, SIZE).fill((byte) 0);
        a.data.asSlice(table, capacity * SLOT_SIZE).fill((byte) 0);
        a.data.set(LONG, root + CAPACITY_OFFSET, capacity);
        a.data.set(LONG, root + TABLE_OFFSET, a.ref(table));
        StructureLayout.publish(a.data, root, MAGIC, VERSION);
        return new HashIndex(a, root);
    }

    /**
     * Attaches to the index at data offset {@code root} of {@code region}.
     *
     * @param region the region it lives in
     * @param root its data offset, as {@code root()} gave it
     * @return the index
     */
    public static HashIndex attach(SharedRegion region, long root) {
        StructureLayout.check(region.segment(), root, MAGIC, VERSION, "hash index");
        return new HashIndex(new Access(region, ReferenceChecking.CHECKED), root);
    }

    /**
     * The hash whose low bits give the slot a key's probe starts at (then +1, wrapping): Murmur3's
     * 64-bit finaliser, so clustered keys spread. Public so that other readers of the layout (tools,
     * other languages, the benchmark's peers) find keys the same way.
     *
     * @param key the key
     * @return its hash
     */
    public static long hash(long key) {
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /**
     * Maps {@code key} to {@code value} (writer lock held); returns the previous value, or
     * {@code missing} if there was none.
     *
     * @param key the key, not 0
     * @param value its value
     * @param missing what to return when there was none
     * @return the previous value, or {@code missing}
     */
    public long put(long key, long value, long missing) {
        checkKey(key);
        MemorySegment d = access.open();
        access.checkWriter("HashIndex.put");
        long i = hash(key) & mask;
        for (long probes = 0; probes <= mask; probes++, i = (i + 1) & mask) { // each slot once: a full table is damage
            long slot = tableOffset + i * SLOT_SIZE;
            long k = d.get(LONG, slot + SLOT_KEY_OFFSET);
            if (k == key) {
                long previous = d.get(LONG, slot + SLOT_VALUE_OFFSET);
                d.set(LONG, slot + SLOT_VALUE_OFFSET, value);
                return previous;
            }
            if (k == 0) {
                long count = d.get(LONG, root + COUNT_OFFSET);
                if (count >= (mask + 1) / 4 * 3) {
                    throw new RegionException(ErrorKind.NO_SPACE, "hash index at data offset " + root + " of " + access.region.name()
                        + " is full: " + count + " keys in " + (mask + 1) + " slots (at most 3/4 are used)");
                }
                d.set(LONG, slot + SLOT_VALUE_OFFSET, value);
                Access.LONG_HANDLE.setRelease(d, slot + SLOT_KEY_OFFSET, key);
                Access.LONG_HANDLE.setRelease(d, root + COUNT_OFFSET, count + 1);
                return missing;
            }
        }
        throw noEmptySlot(root, mask, key, access);
    }

    /**
     * {@return the value of {@code key}, or {@code missing}} Allocation-free.
     *
     * @param key the key
     * @param missing what to return when there is none
     */
    public long get(long key, long missing) {
        checkKey(key);
        MemorySegment d = access.open();
        // the table was checked at attach and a probe never leaves it, so no reference needs checking;
        // a DIRECT region's table address is a constant of the index, an OFFSET region's too
        long value = Access.SCOPED ? get(d, d.address(), tableAddress, mask, key, missing) : get(ALL, 0L, tableAddress, mask, key, missing);
        access.confirm();
        if (value == FULL_TABLE && probedAll(d, key)) {
            throw noEmptySlot(root, mask, key, access);
        }
        return value;
    }

    /**
     * What the probe loop returns when it looked at every slot and found neither the key nor an empty
     * one; since a value may be any long, {@link #probedAll} tells that apart from a stored value.
     */
    private static final long FULL_TABLE = Long.MIN_VALUE + 0x2a;

    /** {@return whether a probe for {@code key} finds neither it nor an empty slot in the whole table} (the slow path) */
    private boolean probedAll(MemorySegment d, long key) {
        long i = hash(key) & mask;
        for (long probes = 0; probes <= mask; probes++, i = (i + 1) & mask) {
            long k = d.get(LONG, tableOffset + i * SLOT_SIZE);
            if (k == key || k == 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * A table with no empty slot on a probe's whole way round: never made by {@link #put}, which fills
     * at most 3/4, so the region was written by something else. Without this bound every lookup of an
     * absent key in a table a hostile or broken writer filled would spin forever.
     */
    private static RegionException noEmptySlot(long root, long mask, long key, Access access) {
        return new RegionException(ErrorKind.CORRUPT_REGION, "the hash index at data offset " + root + " of " + access.region.name()
            + " is damaged: all " + (mask + 1) + " slots of its table hold other keys than " + key
            + ", none is empty (put fills at most 3/4 of them)");
    }

    /** The table by its address in this process, through {@code mem} whose byte 0 is at {@code memBase} ({@link Access#ALL} and 0: a constant-base segment). */
    private static long get(MemorySegment mem, long memBase, long table, long mask, long key, long missing) {
        long i = hash(key) & mask;
        for (long probes = 0; probes <= mask; probes++, i = (i + 1) & mask) {
            long slot = table + i * SLOT_SIZE;
            long k = mem.get(ANY_LONG, slot - memBase);
            if (k == key) {
                VarHandle.acquireFence();
                return mem.get(ANY_LONG, slot + SLOT_VALUE_OFFSET - memBase);
            }
            if (k == 0) {
                return missing;
            }
        }
        return FULL_TABLE;
    }

    /**
     * {@return whether {@code key} is present}
     *
     * @param key the key
     */
    public boolean containsKey(long key) {
        checkKey(key);
        MemorySegment d = access.open();
        long i = hash(key) & mask;
        for (long probes = 0; probes <= mask; probes++, i = (i + 1) & mask) {
            long k = d.get(LONG, tableOffset + i * SLOT_SIZE);
            if (k == key || k == 0) {
                return k == key;
            }
        }
        throw noEmptySlot(root, mask, key, access);
    }

    private static void checkKey(long key) {
        if (key == 0) {
            throw new IllegalArgumentException("key 0 is reserved: it marks an empty slot of a HashIndex");
        }
    }

    /** {@return the number of keys (a hint while a writer puts)} */
    public long size() {
        return (long) Access.LONG_HANDLE.getAcquire(access.open(), root + COUNT_OFFSET);
    }

    /** {@return the number of slots} */
    public long capacity() {
        return mask + 1;
    }

    /** {@return the data offset another process attaches by} */
    public long root() {
        return root;
    }

    /** {@return the reference to the slot table, as stored in the header} (for tools and benchmarks) */
    public long tableReference() {
        return tableRef;
    }

    @Override
    public String toString() {
        return "HashIndex[root=" + root + ", capacity=" + capacity() + ", size=" + size() + ", " + access.references + "]";
    }
}
