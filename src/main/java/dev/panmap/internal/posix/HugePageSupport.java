package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;

import dev.panmap.ErrorKind;
import dev.panmap.HugePages;
import dev.panmap.NativeException;
import dev.panmap.PageUsage;
import dev.panmap.RegionException;
import dev.panmap.internal.PagePlan;
import dev.panmap.internal.Platform.Creation;
import dev.panmap.internal.Platform.Target;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Huge pages on Linux, for {@link PosixPlatform}: which kind a region can have (hugetlbfs for files
 * on such a mount, {@code MFD_HUGETLB} for anonymous regions, transparent huge pages for shared
 * memory and tmpfs files where {@code shmem_enabled} allows them), creating anonymous regions, and
 * reading back what the kernel did ({@code /proc/self/smaps}).
 */
final class HugePageSupport {
    private HugePageSupport() {}

    static final Path HUGEPAGES = Path.of("/sys/kernel/mm/hugepages");
    static final Path THP = Path.of("/sys/kernel/mm/transparent_hugepage");

    /** Decides the backing of a new region; see {@code Platform.planPages}. */
    static PagePlan plan(Target target, HugePages policy, long hugePageSize, long pageSize) {
        if (hugePageSize <= 0 || Long.bitCount(hugePageSize) != 1) {
            throw new IllegalArgumentException("a huge page size is a power of two: " + hugePageSize);
        }
        if (target != null && target.file()) {
            Path dir = Path.of(target.name()).toAbsolutePath().getParent();
            Memfd.FileSystem fs = directoryFileSystem(dir);
            if (fs.hugetlbfs()) {
                if (policy == HugePages.REQUIRED && fs.blockSize() != hugePageSize) {
                    throw new RegionException(ErrorKind.NOT_SUPPORTED, dir + " is a hugetlbfs mount of " + size(fs.blockSize())
                        + " pages, not " + size(hugePageSize) + " (mount one with -o pagesize=" + size(hugePageSize) + ")");
                }
                return PagePlan.hugetlb(fs.blockSize());
            }
            if (policy == HugePages.NONE) {
                return PagePlan.ordinary(pageSize, null);
            }
            if (fs.type() == Memfd.TMPFS) {
                return transparentOr(policy, hugePageSize, pageSize, "a file on tmpfs (" + dir + ")", dir);
            }
            return refuse(policy, pageSize, dir + " is neither on hugetlbfs nor on tmpfs: a file region gets huge pages on a"
                + " hugetlbfs mount (mount -t hugetlbfs -o pagesize=" + size(hugePageSize) + " none DIR)");
        }
        if (policy == HugePages.NONE) {
            return PagePlan.ordinary(pageSize, null);
        }
        if (target == null) {
            if (hugetlbOffered(hugePageSize)) {
                return PagePlan.hugetlb(hugePageSize);
            }
            PagePlan instead = transparentOr(HugePages.PREFERRED, hugePageSize, pageSize, "an anonymous region", null);
            String why = "this kernel offers no " + size(hugePageSize) + " hugetlb pages (" + HUGEPAGES.resolve(poolName(hugePageSize))
                + " is missing)";
            if (policy == HugePages.REQUIRED) {
                throw new RegionException(ErrorKind.NOT_SUPPORTED, why);
            }
            return instead.because(why + (instead.transparent() ? ": transparent huge pages instead" : "; " + instead.fallback()));
        }
        return transparentOr(policy, hugePageSize, pageSize, "named shared memory", SHM_DIRECTORY);
    }

    static final Path SHM_DIRECTORY = Path.of("/dev/shm");

    /**
     * Transparent huge pages if the kernel allows them for this memory, else the policy's refusal or
     * fallback. Anonymous memory files live on the kernel's internal tmpfs, which {@code shmem_enabled}
     * governs; a tmpfs that is mounted ({@code /dev/shm}, or {@code dir}'s) has its own {@code huge=}
     * option, which {@code shmem_enabled} overrides only with {@code force} and {@code deny}.
     */
    private static PagePlan transparentOr(HugePages policy, long hugePageSize, long pageSize, String what, Path mounted) {
        if (hugePageSize != PagePlan.PMD_SIZE) {
            return refuse(policy, pageSize, what + " gets only transparent huge pages here, and those are "
                + size(PagePlan.PMD_SIZE) + ", not " + size(hugePageSize));
        }
        String global = String.valueOf(selected(THP.resolve("shmem_enabled")));
        if (global.equals("force")) {
            return PagePlan.transparentPages();
        }
        if (global.equals("deny")) {
            return refuse(policy, pageSize, "transparent huge pages for " + what + " are off on this system ("
                + THP.resolve("shmem_enabled") + " is [deny])");
        }
        if (mounted == null) {
            String setting = shmemSetting();
            if (setting.equals("always") || setting.equals("within_size") || setting.equals("advise")) {
                return PagePlan.transparentPages();
            }
            return refuse(policy, pageSize, "transparent huge pages for " + what + " are off on this system ("
                + THP.resolve("shmem_enabled") + " is [" + setting + "]; 'advise' turns them on for regions that ask)");
        }
        String[] mount = tmpfsMount(mounted);
        String huge = mount == null ? "never" : mount[1];
        if (huge.equals("always") || huge.equals("within_size") || huge.equals("advise")) {
            return PagePlan.transparentPages();
        }
        String where = mount == null ? mounted.toString() : mount[0];
        return refuse(policy, pageSize, "transparent huge pages for " + what + " are off: the tmpfs at " + where
            + " is mounted with huge=" + huge + " (mount -o remount,huge=advise " + where + " turns them on for regions that ask)");
    }

    /** {@return the mount point and {@code huge=} option ("never" if absent) of the tmpfs that holds {@code dir}, or null} */
    private static String[] tmpfsMount(Path dir) {
        String path;
        List<String> lines;
        try {
            path = dir.toRealPath().toString();
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            return null;
        }
        String[] best = null;
        int bestLength = -1;
        for (String line : lines) {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
            String[] f = line.split(" ");
            int dash = java.util.Arrays.asList(f).indexOf("-");
            if (f.length < 5 || dash < 0 || dash + 3 >= f.length) {
                continue;
            }
            String point = f[4].replace("\\040", " ");
            boolean under = path.equals(point) || path.startsWith(point.endsWith("/") ? point : point + "/");
            if (under && point.length() >= bestLength) { // the last of equal mount points is the one on top
                bestLength = point.length();
                String huge = "never";
                for (String option : f[dash + 3].split(",")) {
                    if (option.startsWith("huge=")) {
                        huge = option.substring(5);
                    }
                }
                best = f[dash + 1].equals("tmpfs") ? new String[] {point, huge} : null;
            }
        }
        return best;
    }

    private static PagePlan refuse(HugePages policy, long pageSize, String why) {
        if (policy == HugePages.REQUIRED) {
            throw new RegionException(ErrorKind.NOT_SUPPORTED, "huge pages required, but " + why);
        }
        return PagePlan.ordinary(pageSize, why);
    }

    /** {@return the shmem THP setting that applies to 2 MiB pages: the per-size one unless it says inherit} */
    static String shmemSetting() {
        String perSize = selected(THP.resolve("hugepages-2048kB").resolve("shmem_enabled"));
        return perSize == null || perSize.equals("inherit") ? String.valueOf(selected(THP.resolve("shmem_enabled"))) : perSize;
    }

    /** {@return the [selected] word of a sysfs choice file, or null if there is none} */
    private static String selected(Path file) {
        try {
            String text = Files.readString(file);
            int open = text.indexOf('[');
            int close = text.indexOf(']', open + 1);
            return open < 0 || close < 0 ? null : text.substring(open + 1, close);
        } catch (IOException e) {
            return null;
        }
    }

    static String poolName(long hugePageSize) {
        return "hugepages-" + (hugePageSize >> 10) + "kB";
    }

    static boolean hugetlbOffered(long hugePageSize) {
        return Files.isDirectory(HUGEPAGES.resolve(poolName(hugePageSize)));
    }

    private static Memfd.FileSystem directoryFileSystem(Path dir) {
        int fd = Posix.open(dir.toString(), O_RDONLY() | LinuxAbi.current().oDirectory() | O_CLOEXEC(), 0);
        try {
            return Memfd.fstatfs(fd);
        } finally {
            Posix.close(fd);
        }
    }

    /** {@return the plan an open file implies: its hugetlbfs pages, or null for ordinary ones} */
    static PagePlan planOf(int fd) {
        Memfd.FileSystem fs = Memfd.fstatfs(fd);
        return fs.hugetlbfs() ? PagePlan.hugetlb(fs.blockSize()) : null;
    }

    /**
     * Reserves a new object's blocks ({@code posix_fallocate}). For hugetlb pages an {@code ENOSPC}
     * means that the pool has too few free pages: {@code NO_MEMORY}, with how to reserve more.
     */
    static void reserve(PosixPlatform.Fd handle, int fd, long size) {
        PagePlan plan = handle.plan;
        try {
            Posix.posixFallocate(fd, 0, size);
        } catch (NativeException e) {
            if (plan == null || plan.hugetlbPageSize() == 0 || e.errorCode() != ENOSPC()) {
                throw e;
            }
            long page = plan.hugetlbPageSize();
            Path pool = HUGEPAGES.resolve(poolName(page));
            throw new NativeException(ErrorKind.NO_MEMORY, e.function(), e.arguments(), e.errorCode(), e.errorName(),
                e.errorMessage() + ": not enough free " + size(page) + " huge pages for " + size + " bytes (" + size / page + " needed, "
                + read(pool.resolve("free_hugepages")) + " free of " + read(pool.resolve("nr_hugepages"))
                + "; reserve more in " + pool.resolve("nr_hugepages") + ")");
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    /** {@code madvise(MADV_HUGEPAGE)} on a fresh mapping of this platform's. */
    static void adviseHuge(long address, long size) {
        Posix.madvise(MemorySegment.ofAddress(address).reinterpret(size), MADV_HUGEPAGE(), "MADV_HUGEPAGE");
    }

    /**
     * A sealed memfd of {@code size} bytes; with a hugetlb plan, from the huge page pool, falling back
     * when {@code preferred} and the pool has too few free pages.
     */
    static PosixPlatform.Fd createAnonymous(String name, long size, Creation creation, PagePlan plan, boolean preferred,
                                            boolean sealGrowth, long pageSize) {
        if (plan.hugetlbPageSize() == 0) {
            return anonymous(name, size, creation, plan, sealGrowth);
        }
        try {
            return anonymous(name, size, creation, plan, sealGrowth);
        } catch (RegionException e) {
            if (!preferred || e.kind() != ErrorKind.NO_MEMORY) {
                throw e;
            }
            PagePlan instead = transparentOr(HugePages.PREFERRED, PagePlan.PMD_SIZE, pageSize, "an anonymous region", null);
            return anonymous(name, size, creation, instead.because(e.getMessage()
                + (instead.transparent() ? "; transparent huge pages instead" : "; " + instead.fallback())), sealGrowth);
        }
    }

    private static PosixPlatform.Fd anonymous(String name, long size, Creation creation, PagePlan plan, boolean sealGrowth) {
        int fd = Memfd.create(name, plan.hugetlbPageSize());
        PosixPlatform.Fd handle = new PosixPlatform.Fd(fd, "memfd \"" + name + "\"");
        handle.plan = plan;
        try {
            Posix.fchmod(fd, creation.permissions()); // what /proc/PID/fd/N opens by path allow
            Posix.ftruncate(fd, size);
            // hugetlb: always, so that too few free pages fail here and not as a fault later; transparent:
            // the caller touches the pages after madvise, as fallocate would take small ones
            if (plan.hugetlbPageSize() != 0 || (creation.reserve() && !plan.transparent())) {
                reserve(handle, fd, size);
            }
            int seals = F_SEAL_SHRINK() | (sealGrowth ? F_SEAL_GROW() | F_SEAL_SEAL() : 0);
            Memfd.addSeals(fd, seals);
            return handle;
        } catch (RuntimeException e) {
            handle.close();
            throw e;
        }
    }

    /** Sums {@code /proc/self/smaps} over the entries that overlap {@code [address, address+size)}. */
    static PageUsage pageUsage(long address, long size) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        } catch (IOException e) {
            return null;
        }
        long end = address + size;
        boolean in = false;
        long kernelPage = 0;
        long thp = 0;
        long rss = 0;
        long mapped = 0;
        for (String line : lines) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                long from = Long.parseUnsignedLong(line, 0, dash, 16);
                long to = Long.parseUnsignedLong(line, dash + 1, space, 16);
                in = Long.compareUnsigned(from, end) < 0 && Long.compareUnsigned(address, to) < 0;
                continue;
            }
            if (!in) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0 || !line.endsWith(" kB")) {
                continue;
            }
            long kb = Long.parseLong(line.substring(colon + 1, line.length() - 3).trim());
            switch (line.substring(0, colon)) {
                case "Size" -> mapped += kb << 10;
                case "KernelPageSize" -> kernelPage = Math.max(kernelPage, kb << 10);
                case "Rss", "Shared_Hugetlb", "Private_Hugetlb" -> rss += kb << 10;
                case "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped" -> thp += kb << 10;
                default -> { }
            }
        }
        return mapped == 0 ? null : new PageUsage(kernelPage, thp, rss, mapped);
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    static String size(long bytes) {
        return bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? (bytes >> 30) + "G"
            : bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? (bytes >> 20) + "M" : (bytes >> 10) + "K";
    }
}
