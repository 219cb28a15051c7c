package dev.panmap;

/** How a region is placed in each process's address space, and so how references inside it are stored. */
public enum Addressing {
    /**
     * Mapped wherever the system likes; references inside the region are offsets from its start and
     * are valid in every process. The default.
     */
    OFFSET,
    /**
     * Every process maps the region at the same base address, recorded in the header, so absolute
     * addresses can be stored inside it and followed without arithmetic. Attaching fails with
     * {@link ErrorKind#ADDRESS_IN_USE} where that address is taken, unless the offset fallback was
     * allowed ({@link RegionOptions#allowOffsetFallback(boolean)}).
     */
    DIRECT
}
