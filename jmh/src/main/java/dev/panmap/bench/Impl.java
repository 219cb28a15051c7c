package dev.panmap.bench;

/** The variants every benchmark runs, as the {@code impl} parameter names them. */
enum Impl {
    /** panmap, DIRECT region at its base: stored absolute addresses followed as they are. */
    PANMAP_DIRECT("panmap-direct"),
    /**
     * panmap, DIRECT region at its base, through a handle attached with
     * {@code ReferenceChecking.UNCHECKED}: the same region and structure as {@link #PANMAP_DIRECT},
     * references followed without the check (C's contract). Only the structures that follow stored
     * references have it: {@code ListBench} and {@code SkipBench}.
     */
    PANMAP_DIRECT_UNCHECKED("panmap-direct-unchecked"),
    /** panmap, the offset code path (OFFSET regions; here the offset-fallback mapping of the same region). */
    PANMAP_OFFSET("panmap-offset"),
    /** The JDK's own mapped segment: {@code FileChannel.map(READ_WRITE, 0, size, arena)}. */
    JDK_SEGMENT("jdk-segment"),
    /** {@code FileChannel.map(READ_WRITE, 0, size)}: a {@code MappedByteBuffer} (int indices). */
    MAPPED_BUFFER("mapped-buffer"),
    /** Agrona's {@code UnsafeBuffer} over that buffer (its default bounds checks on). */
    AGRONA("agrona");

    final String label;

    Impl(String label) {
        this.label = label;
    }

    static Impl of(String label) {
        for (Impl i : values()) {
            if (i.label.equals(label)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown impl " + label);
    }
}
