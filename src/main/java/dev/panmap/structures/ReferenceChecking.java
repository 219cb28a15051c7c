package dev.panmap.structures;

/**
 * Whether the DIRECT read paths of a structure check every stored reference before they follow it.
 *
 * <p>Only DIRECT regions mapped at their base are concerned: there a reference is an absolute address
 * read through a segment of the whole address space (as C reads a pointer), so nothing but this check
 * keeps a bad reference from being followed. OFFSET regions read through the region's bounded
 * segment and are checked either way.
 */
public enum ReferenceChecking {
    /**
     * The default. Each reference is checked to be an 8-aligned address of a whole node inside the
     * region's data area before it is followed: one rotate and one unsigned compare, a predicted
     * branch beside the load chain (what it costs is in {@code make bench}). A bad reference — a
     * bug, a damaged region, another process's stray write — is a {@code CORRUPT_REGION}
     * {@link dev.panmap.RegionException}, and a thread racing with {@code close()}, also with a close
     * followed by a new region at the same base, never faults (see {@code Access}).
     */
    CHECKED,
    /**
     * C's contract: references are followed as they are. Faster by the check's branch, and a bad
     * reference, or a reader racing with a close that a new DIRECT region at the same base follows,
     * can crash the JVM with SIGSEGV. For regions whose every writer is trusted and whose lifetime the
     * application controls.
     */
    UNCHECKED
}
