package dev.panmap;

/**
 * The pages that back a region's mapping in this process, as the kernel reports them in
 * {@code /proc/self/smaps} (summed over the mapping's entries): not what was asked, what is.
 *
 * @param kernelPageSize       {@code KernelPageSize}: 4096, or the huge page size of a hugetlb mapping
 * @param transparentHugeBytes bytes mapped here by transparent huge pages ({@code AnonHugePages} +
 *                             {@code ShmemPmdMapped} + {@code FilePmdMapped})
 * @param residentBytes        bytes resident in this mapping ({@code Rss}, plus {@code Shared_Hugetlb}
 *                             and {@code Private_Hugetlb} for hugetlb pages, which {@code Rss} leaves out)
 * @param mappedBytes          the size of the mapping ({@code Size})
 */
public record PageUsage(long kernelPageSize, long transparentHugeBytes, long residentBytes, long mappedBytes) {
    /** The size of a transparent huge page on x86_64 (a PMD entry maps 2 MiB). */
    public static final long TRANSPARENT_HUGE_PAGE_SIZE = 2L << 20;

    /** {@return whether the mapping is hugetlb (its kernel page size is a huge page)} */
    public boolean hugetlb() {
        return kernelPageSize > 4096;
    }

    /**
     * {@return the page size in effect}: the hugetlb page size, or {@link #TRANSPARENT_HUGE_PAGE_SIZE}
     * when transparent huge pages map at least half of what is resident here, else the kernel page size
     */
    public long effectivePageSize() {
        if (hugetlb()) {
            return kernelPageSize;
        }
        return transparentHugeBytes > 0 && transparentHugeBytes * 2 >= residentBytes ? TRANSPARENT_HUGE_PAGE_SIZE : kernelPageSize;
    }

    /** {@return e.g. "2M hugetlb pages; 8M of 8M resident here", "4K pages; 6M of 8M resident here in 2M transparent huge pages"} */
    public String describe() {
        if (hugetlb()) {
            return size(kernelPageSize) + " hugetlb pages; " + size(residentBytes) + " of " + size(mappedBytes) + " resident here";
        }
        String base = size(kernelPageSize) + " pages";
        if (transparentHugeBytes > 0) {
            return base + "; " + size(transparentHugeBytes) + " of " + size(residentBytes) + " resident here in "
                + size(TRANSPARENT_HUGE_PAGE_SIZE) + " transparent huge pages";
        }
        return base + "; " + size(residentBytes) + " of " + size(mappedBytes) + " resident here, none in huge pages";
    }

    private static String size(long bytes) {
        String[] units = {"", "K", "M", "G", "T"};
        int u = 0;
        long v = bytes;
        while (u < units.length - 1 && v >= 1024 && v % 1024 == 0) {
            v /= 1024;
            u++;
        }
        return v + units[u];
    }
}
