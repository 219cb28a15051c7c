package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;
import static dev.panmap.internal.posix.Posix.SCRATCH;
import static dev.panmap.internal.posix.Posix.capturing;
import static dev.panmap.internal.posix.Posix.check;
import static dev.panmap.internal.posix.Posix.errno;
import static dev.panmap.internal.posix.Posix.failure;
import static dev.panmap.internal.posix.Posix.unexpected;

import dev.panmap.internal.generated.linux.Libc;
import dev.panmap.internal.generated.linux.statfs;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.StringJoiner;

/**
 * Anonymous memory files and what is asked of a file's memory: {@code memfd_create}, its seals
 * ({@code fcntl(F_ADD_SEALS / F_GET_SEALS)}), {@code fstatfs} (is it on hugetlbfs, and with which
 * page size), {@code geteuid}. Same conventions as {@link Posix}: errno captured, failures as
 * {@code NativeException} naming the call and its arguments.
 */
public final class Memfd {
    private Memfd() {}

    private static final MethodHandle MEMFD_CREATE = capturing(memfd_create$address(), memfd_create$descriptor());
    private static final MethodHandle FCNTL_INT = capturing(Libc.fcntl.address(),
        FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FSTATFS = capturing(fstatfs$address(), fstatfs$descriptor());
    private static final MethodHandle GETEUID = Linker.nativeLinker().downcallHandle(geteuid$address(), geteuid$descriptor());

    /** {@code HUGETLBFS_MAGIC}, an unsigned 32-bit value. */
    public static final long HUGETLBFS = Integer.toUnsignedLong(HUGETLBFS_MAGIC());
    /** {@code TMPFS_MAGIC} (also what {@code memfd_create} without {@code MFD_HUGETLB} gives). */
    public static final long TMPFS = Integer.toUnsignedLong(TMPFS_MAGIC());

    /**
     * {@code memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING [| MFD_HUGETLB | log2(hugePageSize) << MFD_HUGE_SHIFT])}.
     *
     * @param hugePageSize 0 for ordinary pages, else the huge page size (a power of two)
     */
    public static int create(String name, long hugePageSize) {
        int flags = MFD_CLOEXEC() | MFD_ALLOW_SEALING();
        if (hugePageSize != 0) {
            flags |= MFD_HUGETLB() | (Long.numberOfTrailingZeros(hugePageSize) << MFD_HUGE_SHIFT());
        }
        Posix.Scratch s = SCRATCH.get();
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) MEMFD_CREATE.invokeExact(s.errno, arena.allocateFrom(name), flags);
        } catch (Throwable t) {
            throw unexpected("memfd_create", t);
        }
        if (fd < 0) {
            throw failure("memfd_create", Flags.string(name) + ", " + memfdFlags(flags), errno(s));
        }
        return fd;
    }

    private static String memfdFlags(int flags) {
        StringJoiner out = new StringJoiner("|");
        out.add("MFD_CLOEXEC").add("MFD_ALLOW_SEALING");
        if ((flags & MFD_HUGETLB()) != 0) {
            out.add("MFD_HUGETLB");
            int shift = flags >>> MFD_HUGE_SHIFT();
            out.add(shift == 21 ? "MFD_HUGE_2MB" : shift == 30 ? "MFD_HUGE_1GB" : "(" + shift + " << MFD_HUGE_SHIFT)");
        }
        return out.toString();
    }

    /** {@code fcntl(fd, F_ADD_SEALS, seals)}. */
    public static void addSeals(int fd, int seals) {
        Posix.Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) FCNTL_INT.invokeExact(s.errno, fd, F_ADD_SEALS(), seals);
        } catch (Throwable t) {
            throw unexpected("fcntl", t);
        }
        check(rc, "fcntl", fd + ", F_ADD_SEALS, " + sealNames(seals), s);
    }

    /** {@return {@code fcntl(fd, F_GET_SEALS)}} (EINVAL for a file that is not sealable) */
    public static int getSeals(int fd) {
        Posix.Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) FCNTL_INT.invokeExact(s.errno, fd, F_GET_SEALS(), 0);
        } catch (Throwable t) {
            throw unexpected("fcntl", t);
        }
        if (rc < 0) {
            throw failure("fcntl", fd + ", F_GET_SEALS", errno(s));
        }
        return rc;
    }

    /** {@return the seals as C writes them, e.g. {@code F_SEAL_SHRINK|F_SEAL_GROW}} */
    public static String sealNames(int seals) {
        StringJoiner out = new StringJoiner("|");
        int[] values = {F_SEAL_SEAL(), F_SEAL_SHRINK(), F_SEAL_GROW(), F_SEAL_WRITE()};
        String[] names = {"F_SEAL_SEAL", "F_SEAL_SHRINK", "F_SEAL_GROW", "F_SEAL_WRITE"};
        int rest = seals;
        for (int i = 0; i < values.length; i++) {
            if ((rest & values[i]) != 0) {
                out.add(names[i]);
                rest &= ~values[i];
            }
        }
        if (rest != 0 || out.length() == 0) {
            out.add("0x" + Integer.toHexString(rest));
        }
        return out.toString();
    }

    /** What panmap reads of {@code struct statfs}: the file system's magic (unsigned) and block size. */
    public record FileSystem(long type, long blockSize) {
        public boolean hugetlbfs() {
            return type == HUGETLBFS;
        }
    }

    /** {@code fstatfs(fd)}. */
    public static FileSystem fstatfs(int fd) {
        Posix.Scratch s = SCRATCH.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(statfs.layout());
            int rc = (int) FSTATFS.invokeExact(s.errno, fd, st);
            check(rc, "fstatfs", Integer.toString(fd), s);
            return new FileSystem(statfs.f_type(st) & 0xFFFF_FFFFL, statfs.f_bsize(st));
        } catch (dev.panmap.NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("fstatfs", t);
        }
    }

    /**
     * {@code geteuid()}: the user that owns what this process creates and that the kernel checks its
     * access against (and that {@code SO_PEERCRED} reports to a peer), which is not the real user in a
     * set-user-ID program.
     */
    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw unexpected("geteuid", t);
        }
    }
}
