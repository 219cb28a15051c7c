package dev.panmap;

/**
 * How references inside one region are stored and followed in this process: the small, explicit
 * API behind which a data structure is written once for both addressing modes.
 *
 * <p>A <em>reference</em> is the 8-byte value a structure stores in the region to point at another
 * place of the same region's data area. In a {@link Addressing#DIRECT DIRECT} region it is the
 * absolute address (every process maps the region at the same base, so it can be dereferenced as
 * is); in an {@link Addressing#OFFSET OFFSET} region it is the distance from the start of the region
 * (so it is never 0 for a place in the data area). {@link #NULL} is 0 in both modes.
 *
 * <p>A process that attached to a DIRECT region with the offset fallback reads the same stored
 * absolute addresses and translates them ({@link #address(long)} adds a constant), so it can follow
 * what the others wrote.
 */
public final class References {
    /** The null reference, in both modes. */
    public static final long NULL = 0;

    private final long storedDataBase;
    private final long localDataAddress;
    private final long delta;

    References(long storedDataBase, long localDataAddress) {
        this.storedDataBase = storedDataBase;
        this.localDataAddress = localDataAddress;
        this.delta = localDataAddress - storedDataBase;
    }

    /**
     * {@return the reference to store for a place at {@code dataOffset} in the data area}
     *
     * @param dataOffset an offset in the data area
     */
    public long toRef(long dataOffset) {
        return storedDataBase + dataOffset;
    }

    /**
     * {@return the data-area offset a stored reference points at} (undefined for {@link #NULL})
     *
     * @param ref a reference read from the region
     */
    public long toOffset(long ref) {
        return ref - storedDataBase;
    }

    /**
     * {@return the address in this process of the place a stored reference points at}
     *
     * @param ref a reference read from the region
     */
    public long address(long ref) {
        return ref + delta;
    }

    /**
     * {@return the reference for an address of this process's mapping}
     *
     * @param address an address in this process's mapping of the data area
     */
    public long fromAddress(long address) {
        return address - delta;
    }

    /**
     * {@return whether stored references are absolute addresses valid in this process as they are}:
     * true exactly for a DIRECT region mapped at its recorded base (an OFFSET reference, a distance
     * from the region start, never equals the address it denotes).
     */
    public boolean isDirect() {
        return delta == 0;
    }

    /** {@return the address of the data area in this process} */
    public long dataAddress() {
        return localDataAddress;
    }

    @Override
    public String toString() {
        return isDirect() ? "References[direct, data at 0x" + Long.toHexString(localDataAddress) + "]"
            : "References[ref - 0x" + Long.toHexString(storedDataBase) + " = data offset, data at 0x" + Long.toHexString(localDataAddress) + "]";
    }
}
