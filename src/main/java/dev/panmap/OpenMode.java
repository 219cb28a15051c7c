package dev.panmap;

/** How {@link SharedRegion#open} treats an existing or missing region (Boost.Interprocess's modes). */
public enum OpenMode {
    /** Create the region; fail with {@link ErrorKind#ALREADY_EXISTS} if it exists. */
    CREATE_ONLY,
    /** Attach to an existing region for reading and writing; fail with {@link ErrorKind#NOT_FOUND} if missing. */
    OPEN_ONLY,
    /** Attach if the region exists, else create it. Exactly one of several racing processes creates it. */
    OPEN_OR_CREATE,
    /** Attach to an existing region for reading only: writes to its segment throw. */
    OPEN_READ_ONLY,
    /**
     * Attach to an existing region privately: writes land in this process's own copy of the pages
     * and are never seen by others nor stored.
     */
    OPEN_COPY_ON_WRITE;

    /** {@return whether this mode may create the region} */
    public boolean creates() {
        return this == CREATE_ONLY || this == OPEN_OR_CREATE;
    }

    /** {@return whether the region is opened with write access to the shared pages} */
    public boolean writable() {
        return this == CREATE_ONLY || this == OPEN_ONLY || this == OPEN_OR_CREATE;
    }
}
