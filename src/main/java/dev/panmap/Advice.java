package dev.panmap;

/** Access-pattern hints for {@link SharedRegion#advise} ({@code madvise}). */
public enum Advice {
    /** No special treatment. */
    NORMAL,
    /** Pages will be read in order: read ahead aggressively. */
    SEQUENTIAL,
    /** Pages will be read in random order: read ahead less. */
    RANDOM,
    /** The range will be needed soon: start reading it in. */
    WILL_NEED,
    /**
     * The range is not needed now. For shared memory the data stays (it lives in the shared object);
     * only this process's page-table entries are dropped.
     */
    DONT_NEED
}
