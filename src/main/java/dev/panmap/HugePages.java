package dev.panmap;

/**
 * Whether a region should be backed by huge pages ({@link RegionOptions#hugePages(HugePages)}).
 * Past the caches, every hop of a pointer chase costs a TLB miss as well as a memory access; a
 * 2 MiB page covers 512 times what a 4 KiB page does, so most of those misses go.
 *
 * <p>What backs the pages, by kind of region (Linux):
 * <ul>
 * <li><b>A file on a hugetlbfs mount</b>: the mount's huge pages (reserved by the administrator in
 *     {@code /proc/sys/vm/nr_hugepages}), whatever this option says; sizes are rounded up to them.</li>
 * <li><b>An anonymous region</b> ({@link SharedRegion#createAnonymous}): {@code memfd_create} with
 *     {@code MFD_HUGETLB}, from the same reserved pool.</li>
 * <li><b>A named shared-memory object, or a file on tmpfs</b>: transparent huge pages
 *     ({@code madvise(MADV_HUGEPAGE)}), where {@code /sys/kernel/mm/transparent_hugepage/shmem_enabled}
 *     allows them; the kernel then backs what it can with 2 MiB pages.</li>
 * </ul>
 * {@link SharedRegion#pageUsage()} says what the kernel actually did, read from {@code /proc/self/smaps}.
 */
public enum HugePages {
    /** Ordinary pages (a file on hugetlbfs still gets that mount's huge pages). */
    NONE,
    /**
     * Huge pages where this system has them; otherwise ordinary pages, and
     * {@link SharedRegion#pageFallback()} and the log ({@code dev.panmap}, INFO) say why.
     */
    PREFERRED,
    /**
     * Huge pages or a {@link RegionException}: {@link ErrorKind#NO_MEMORY} when the kernel has them
     * but none are free, {@link ErrorKind#NOT_SUPPORTED} when it has none of that size (or none for
     * this kind of region).
     */
    REQUIRED
}
