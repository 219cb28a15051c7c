package dev.panmap.internal;

/**
 * How a region's pages will be backed, decided before it is created or mapped.
 *
 * @param hugetlbPageSize 0, or the hugetlb page size (a hugetlbfs file, a {@code MFD_HUGETLB} memfd)
 * @param transparent     whether to ask for transparent huge pages ({@code madvise(MADV_HUGEPAGE)})
 * @param alignment       what sizes and DIRECT bases are rounded up to (the system page size at least)
 * @param fallback        why huge pages that were preferred are not used, or null
 */
public record PagePlan(long hugetlbPageSize, boolean transparent, long alignment, String fallback) {
    /** The PMD size on x86_64: a transparent huge page. */
    public static final long PMD_SIZE = 2L << 20;

    public static PagePlan ordinary(long pageSize, String fallback) {
        return new PagePlan(0, false, pageSize, fallback);
    }

    public static PagePlan hugetlb(long hugePageSize) {
        return new PagePlan(hugePageSize, false, hugePageSize, null);
    }

    public static PagePlan transparentPages() {
        return new PagePlan(0, true, PMD_SIZE, null);
    }

    /** {@return this plan with a fallback reason} */
    public PagePlan because(String reason) {
        return new PagePlan(hugetlbPageSize, transparent, alignment, reason);
    }

    public boolean huge() {
        return hugetlbPageSize != 0 || transparent;
    }

    /** {@return {@code bytes} rounded up to the alignment} */
    public long round(long bytes) {
        return (bytes + alignment - 1) / alignment * alignment;
    }
}
