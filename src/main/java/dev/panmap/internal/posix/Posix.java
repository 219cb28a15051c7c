package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;

import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.internal.generated.linux.Libc;
import dev.panmap.internal.generated.linux.flock;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The POSIX calls panmap makes, on top of the jextract bindings in
 * {@code dev.panmap.internal.generated.linux}: each downcall handle is built once from the generated
 * address and descriptor plus {@code captureCallState("errno")} (and {@code firstVariadicArg} for
 * the variadic {@code open} and {@code fcntl}), called with {@code invokeExact}, and every failure
 * becomes a {@link NativeException} that names the call and its arguments.
 *
 * <p>Addresses are passed as {@code long}: a mapping's lifetime is managed by the region, not by a
 * {@link MemorySegment} here.
 */
public final class Posix {
    private Posix() {}

    /** What differs between the architectures: {@code struct stat}, {@code SYS_futex}. */
    private static final LinuxAbi ABI = LinuxAbi.current();
    private static final long SYS_FUTEX = ABI.sysFutex();
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
        CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    /** Per-thread native scratch: the errno capture area, one {@code struct flock} and one {@code struct stat}. */
    static final class Scratch {
        final MemorySegment errno;
        final MemorySegment flock;
        final MemorySegment timespec;
        final MemorySegment stat;

        Scratch() {
            Arena arena = Arena.ofAuto();
            errno = arena.allocate(CAPTURE_LAYOUT);
            flock = arena.allocate(dev.panmap.internal.generated.linux.flock.layout());
            timespec = arena.allocate(dev.panmap.internal.generated.linux.timespec.layout());
            stat = arena.allocate(ABI.statLayout());
        }
    }

    static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static MethodHandle capturing(MemorySegment address, FunctionDescriptor descriptor, Linker.Option... more) {
        Linker.Option[] options = new Linker.Option[more.length + 1];
        options[0] = CAPTURE;
        System.arraycopy(more, 0, options, 1, more.length);
        return LINKER.downcallHandle(address, descriptor, options);
    }

    // variadic: open(const char*, int, ...) and fcntl(int, int, ...) with one variadic argument
    private static final MethodHandle OPEN = capturing(Libc.open.address(),
        FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FCNTL_PTR = capturing(Libc.fcntl.address(),
        FunctionDescriptor.of(C_INT, C_INT, C_INT, C_POINTER), Linker.Option.firstVariadicArg(2));
    // variadic: syscall(long, ...) with futex's five arguments (uaddr, op, val, timeout, uaddr2, val3)
    private static final MethodHandle FUTEX = capturing(Libc.syscall.address(),
        FunctionDescriptor.of(C_LONG, C_LONG, C_POINTER, C_INT, C_INT, C_POINTER, C_POINTER, C_INT), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SHM_OPEN = capturing(shm_open$address(), shm_open$descriptor());
    private static final MethodHandle SHM_UNLINK = capturing(shm_unlink$address(), shm_unlink$descriptor());
    private static final MethodHandle CLOSE = capturing(close$address(), close$descriptor());
    private static final MethodHandle FTRUNCATE = capturing(ftruncate$address(), ftruncate$descriptor());
    private static final MethodHandle POSIX_FALLOCATE = LINKER.downcallHandle(posix_fallocate$address(), posix_fallocate$descriptor());
    private static final MethodHandle FSTAT = capturing(fstat$address(), fstat$descriptor());
    private static final MethodHandle FCHMOD = capturing(fchmod$address(), fchmod$descriptor());
    private static final MethodHandle FSYNC = capturing(fsync$address(), fsync$descriptor());
    private static final MethodHandle MMAP = capturing(mmap$address(), mmap$descriptor());
    private static final MethodHandle MUNMAP = capturing(munmap$address(), munmap$descriptor());
    private static final MethodHandle MSYNC = capturing(msync$address(), msync$descriptor());
    private static final MethodHandle MADVISE = capturing(madvise$address(), madvise$descriptor());
    private static final MethodHandle MINCORE = capturing(mincore$address(), mincore$descriptor());
    private static final MethodHandle MLOCK = capturing(mlock$address(), mlock$descriptor());
    private static final MethodHandle MUNLOCK = capturing(munlock$address(), munlock$descriptor());
    private static final MethodHandle KILL = capturing(kill$address(), kill$descriptor());
    private static final MethodHandle SYSCONF = capturing(sysconf$address(), sysconf$descriptor());
    private static final MethodHandle GETPID = LINKER.downcallHandle(getpid$address(), getpid$descriptor());
    private static final MethodHandle STRERROR = LINKER.downcallHandle(strerror$address(), strerror$descriptor());

    private static final long MAP_FAILED = -1L;

    // ---------------------------------------------------------------- files and shared-memory objects

    /** {@code open(path, flags, mode)}; returns the file descriptor. */
    public static int open(String path, int flags, int mode) {
        Scratch s = SCRATCH.get();
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) OPEN.invokeExact(s.errno, arena.allocateFrom(path), flags, mode);
        } catch (Throwable t) {
            throw unexpected("open", t);
        }
        if (fd < 0) {
            throw failure("open", Flags.string(path) + ", " + Flags.open(flags) + ", " + Flags.mode(mode), errno(s));
        }
        return fd;
    }

    /** {@code shm_open(name, flags, mode)}; returns the file descriptor. */
    public static int shmOpen(String name, int flags, int mode) {
        Scratch s = SCRATCH.get();
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) SHM_OPEN.invokeExact(s.errno, arena.allocateFrom(name), flags, mode);
        } catch (Throwable t) {
            throw unexpected("shm_open", t);
        }
        if (fd < 0) {
            throw failure("shm_open", Flags.string(name) + ", " + Flags.open(flags) + ", " + Flags.mode(mode), errno(s));
        }
        return fd;
    }

    /** {@code shm_unlink(name)}. */
    public static void shmUnlink(String name) {
        Scratch s = SCRATCH.get();
        int rc;
        try (Arena arena = Arena.ofConfined()) {
            rc = (int) SHM_UNLINK.invokeExact(s.errno, arena.allocateFrom(name));
        } catch (Throwable t) {
            throw unexpected("shm_unlink", t);
        }
        check(rc, "shm_unlink", Flags.string(name), s);
    }

    /** {@code close(fd)}. */
    public static void close(int fd) {
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) CLOSE.invokeExact(s.errno, fd);
        } catch (Throwable t) {
            throw unexpected("close", t);
        }
        check(rc, "close", Integer.toString(fd), s);
    }

    /** {@code ftruncate(fd, length)}. */
    public static void ftruncate(int fd, long length) {
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) FTRUNCATE.invokeExact(s.errno, fd, length);
        } catch (Throwable t) {
            throw unexpected("ftruncate", t);
        }
        check(rc, "ftruncate", fd + ", " + length, s);
    }

    /**
     * {@code posix_fallocate(fd, offset, length)}: reserves the blocks, so that a full file system
     * fails here with {@code ENOSPC} instead of a fault on first touch. It returns the error number
     * instead of setting errno.
     */
    public static void posixFallocate(int fd, long offset, long length) {
        int rc;
        try {
            rc = (int) POSIX_FALLOCATE.invokeExact(fd, offset, length);
        } catch (Throwable t) {
            throw unexpected("posix_fallocate", t);
        }
        if (rc != 0) {
            throw failure("posix_fallocate", fd + ", " + offset + ", " + length, rc);
        }
    }

    /**
     * What panmap reads of {@code struct stat}: {@code device} and {@code inode} say which object a
     * descriptor or a name is, {@code links} how many names it has (0: removed while open).
     */
    public record FileStatus(long size, int mode, int uid, int gid, boolean regularFile, long device, long inode, long links) {
        /** {@return the permission bits, e.g. {@code 0600}} */
        public int permissions() {
            return mode & 07777;
        }
    }

    /** {@code fstat(fd)}. */
    public static FileStatus fstat(int fd) {
        Scratch s = SCRATCH.get();
        try {
            MemorySegment st = s.stat; // per thread: an arena per call cost 2 us of an attach's 4 fstat-bound steps
            int rc = (int) FSTAT.invokeExact(s.errno, fd, st);
            check(rc, "fstat", Integer.toString(fd), s);
            return ABI.fileStatus(st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("fstat", t);
        }
    }

    /** {@code fchmod(fd, mode)}: sets the exact mode, whatever the umask was at creation. */
    public static void fchmod(int fd, int mode) {
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) FCHMOD.invokeExact(s.errno, fd, mode);
        } catch (Throwable t) {
            throw unexpected("fchmod", t);
        }
        check(rc, "fchmod", fd + ", " + Flags.mode(mode), s);
    }

    /** {@code fsync(fd)}. */
    public static void fsync(int fd) {
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) FSYNC.invokeExact(s.errno, fd);
        } catch (Throwable t) {
            throw unexpected("fsync", t);
        }
        check(rc, "fsync", Integer.toString(fd), s);
    }

    // ---------------------------------------------------------------- mappings

    /**
     * {@code mmap(address, length, prot, flags, fd, offset)}; returns the mapped address. With
     * {@code MAP_FIXED_NOREPLACE}, an {@code EEXIST} is reported as {@link ErrorKind#ADDRESS_IN_USE},
     * and a kernel that ignored the flag (older than 4.17, it then only hints) is detected by the
     * returned address: that mapping is undone and the same error raised.
     */
    public static long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        Scratch s = SCRATCH.get();
        MemorySegment result;
        try {
            result = (MemorySegment) MMAP.invokeExact(s.errno, MemorySegment.ofAddress(address), length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw unexpected("mmap", t);
        }
        boolean noReplace = (flags & MAP_FIXED_NOREPLACE()) != 0;
        if (result.address() != MAP_FAILED && (!noReplace || result.address() == address)) {
            return result.address(); // the arguments are written out only for a failure: it cost 1 us of every attach
        }
        String args = Flags.hex(address) + ", " + length + ", " + Flags.prot(prot) + ", " + Flags.map(flags) + ", " + fd + ", " + offset;
        if (result.address() == MAP_FAILED) {
            int errno = errno(s);
            if (noReplace && errno == EEXIST()) {
                throw new NativeException(ErrorKind.ADDRESS_IN_USE, "mmap", args, errno, Errno.name(errno), strerror(errno));
            }
            throw failure("mmap", args, errno);
        }
        if (noReplace && result.address() != address) {
            munmap(result.address(), length);
            throw new NativeException(ErrorKind.ADDRESS_IN_USE, "mmap", args, EEXIST(), "EEXIST",
                "the kernel placed the mapping at " + Flags.hex(result.address()) + " instead (MAP_FIXED_NOREPLACE not supported?)");
        }
        return result.address();
    }

    /** {@code munmap(address, length)}. */
    public static void munmap(long address, long length) {
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) MUNMAP.invokeExact(s.errno, MemorySegment.ofAddress(address), length);
        } catch (Throwable t) {
            throw unexpected("munmap", t);
        }
        check(rc, "munmap", Flags.hex(address) + ", " + length, s);
    }

    /**
     * {@code msync(range, flags)}; {@code range} must start on a page. This and the calls below take
     * the mapping's own segment: the downcall keeps its arena open while the call runs.
     */
    public static void msync(MemorySegment range, int flags) {
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) MSYNC.invokeExact(s.errno, range, range.byteSize(), flags);
        } catch (Throwable t) {
            throw unexpected("msync", t);
        }
        check(rc, "msync", Flags.hex(range.address()) + ", " + range.byteSize() + ", " + Flags.msync(flags), s);
    }

    /** {@code madvise(range, advice)}; {@code range} must start on a page. */
    public static void madvise(MemorySegment range, int advice, String adviceName) {
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) MADVISE.invokeExact(s.errno, range, range.byteSize(), advice);
        } catch (Throwable t) {
            throw unexpected("madvise", t);
        }
        check(rc, "madvise", Flags.hex(range.address()) + ", " + range.byteSize() + ", " + adviceName, s);
    }

    /**
     * {@code mincore(page, length, vec)} for one page-aligned {@code page} slice: {@return whether its
     * first page is in memory} (for a shared mapping, in the object's page cache where this process
     * owns the object or may write it; otherwise only if this process has it mapped in). Never faults.
     */
    public static boolean resident(MemorySegment page) {
        Scratch s = SCRATCH.get();
        int rc;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vec = arena.allocate(1);
            rc = (int) MINCORE.invokeExact(s.errno, page, Math.min(page.byteSize(), pageSize()), vec);
            check(rc, "mincore", Flags.hex(page.address()) + ", " + Math.min(page.byteSize(), pageSize()), s);
            return (vec.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) & 1) != 0;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("mincore", t);
        }
    }

    /** {@code mlock(range)}. */
    public static void mlock(MemorySegment range) {
        Scratch s = SCRATCH.get();
        int rc;
        long address = range.address();
        long length = range.byteSize();
        try {
            rc = (int) MLOCK.invokeExact(s.errno, range, length);
        } catch (Throwable t) {
            throw unexpected("mlock", t);
        }
        if (rc != 0) {
            int errno = errno(s);
            // mlock's EAGAIN / ENOMEM mean "over RLIMIT_MEMLOCK or out of memory", not "try later"
            ErrorKind kind = errno == EAGAIN() || errno == ENOMEM() ? ErrorKind.NO_MEMORY : Errno.kind(errno);
            throw new NativeException(kind, "mlock", Flags.hex(address) + ", " + length, errno, Errno.name(errno), strerror(errno));
        }
    }

    /** {@code munlock(range)}. */
    public static void munlock(MemorySegment range) {
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) MUNLOCK.invokeExact(s.errno, range, range.byteSize());
        } catch (Throwable t) {
            throw unexpected("munlock", t);
        }
        check(rc, "munlock", Flags.hex(range.address()) + ", " + range.byteSize(), s);
    }

    // ---------------------------------------------------------------- locks

    /**
     * An open-file-description write lock on the byte range {@code [start, start+length)}:
     * {@code fcntl(fd, F_OFD_SETLK / F_OFD_SETLKW, &flock)}. Unlike classic POSIX record locks it is
     * owned by the open file description, so it is not dropped when the process closes another
     * descriptor of the same file, and the kernel releases it when the last descriptor of that
     * description closes, which includes the death of the process.
     *
     * @return {@code true} if taken, {@code false} if another description holds a conflicting lock
     *         (only when {@code wait} is false)
     */
    public static boolean ofdLock(int fd, long start, long length, boolean wait) {
        return ofd(fd, wait ? F_OFD_SETLKW() : F_OFD_SETLK(), (short) F_WRLCK(), start, length);
    }

    /** Releases an open-file-description lock taken by {@link #ofdLock}. */
    public static void ofdUnlock(int fd, long start, long length) {
        ofd(fd, F_OFD_SETLK(), (short) F_UNLCK(), start, length);
    }

    /**
     * {@code fcntl(fd, F_OFD_GETLK, {F_WRLCK, start, length})}: whether another open file description
     * holds a lock that overlaps the range (one of this descriptor's own never counts). Works across
     * pid namespaces: the kernel answers from the lock itself, not from a pid.
     */
    public static boolean ofdLockedElsewhere(int fd, long start, long length) {
        return flock.l_type(ofdGetLockInto(fd, start, length)) != F_UNLCK(); // no record: a liveness check allocates nothing
    }

    /**
     * What {@code F_OFD_GETLK} reports of {@code [start, start + length)}: the type of a lock another
     * open file description holds there ({@code F_RDLCK}, {@code F_WRLCK}, or {@code F_UNLCK}: none),
     * and its pid, which is -1 for an open-file-description lock (it belongs to no process; a classic
     * POSIX lock reports its process). Asked as a write lock, so read locks count too.
     */
    public record LockConflict(int type, int pid) {}

    /** {@code fcntl(fd, F_OFD_GETLK, {F_WRLCK, SEEK_SET, start, length})}; see {@link LockConflict}. */
    public static LockConflict ofdGetLock(int fd, long start, long length) {
        MemorySegment fl = ofdGetLockInto(fd, start, length);
        return new LockConflict(flock.l_type(fl), flock.l_pid(fl));
    }

    /** {@code F_OFD_GETLK} into this thread's scratch {@code struct flock}: {@return it}, read before the next call */
    private static MemorySegment ofdGetLockInto(int fd, long start, long length) {
        Scratch s = SCRATCH.get();
        MemorySegment fl = s.flock;
        fl.fill((byte) 0);
        flock.l_type(fl, (short) F_WRLCK());
        flock.l_whence(fl, (short) SEEK_SET());
        flock.l_start(fl, start);
        flock.l_len(fl, length);
        int rc;
        try {
            rc = (int) FCNTL_PTR.invokeExact(s.errno, fd, F_OFD_GETLK(), fl);
        } catch (Throwable t) {
            throw unexpected("fcntl", t);
        }
        if (rc != 0) {
            throw failure("fcntl", fd + ", F_OFD_GETLK, {F_WRLCK, SEEK_SET, " + start + ", " + length + "}", errno(s));
        }
        return fl;
    }

    private static boolean ofd(int fd, int cmd, short type, long start, long length) {
        Scratch s = SCRATCH.get();
        MemorySegment fl = s.flock;
        fl.fill((byte) 0);
        flock.l_type(fl, type);
        flock.l_whence(fl, (short) SEEK_SET());
        flock.l_start(fl, start);
        flock.l_len(fl, length);
        int rc;
        try {
            rc = (int) FCNTL_PTR.invokeExact(s.errno, fd, cmd, fl);
        } catch (Throwable t) {
            throw unexpected("fcntl", t);
        }
        if (rc == 0) {
            return true;
        }
        int errno = errno(s);
        if (cmd == F_OFD_SETLK() && type != F_UNLCK() && (errno == EAGAIN() || errno == EACCES())) {
            return false;
        }
        String command = cmd == F_OFD_SETLKW() ? "F_OFD_SETLKW" : "F_OFD_SETLK";
        String lockType = type == F_UNLCK() ? "F_UNLCK" : "F_WRLCK";
        throw failure("fcntl", fd + ", " + command + ", {" + lockType + ", SEEK_SET, " + start + ", " + length + "}", errno);
    }

    // ---------------------------------------------------------------- processes and system

    /** {@code getpid()}. */
    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw unexpected("getpid", t);
        }
    }

    /**
     * {@code kill(pid, 0)}: whether a process with that pid exists. {@code EPERM} means it exists but
     * belongs to another user.
     */
    public static boolean processExists(int pid) {
        if (pid <= 0) {
            return false;
        }
        Scratch s = SCRATCH.get();
        int rc;
        try {
            rc = (int) KILL.invokeExact(s.errno, pid, 0);
        } catch (Throwable t) {
            throw unexpected("kill", t);
        }
        if (rc == 0) {
            return true;
        }
        int errno = errno(s);
        if (errno == ESRCH()) {
            return false;
        }
        if (errno == EPERM()) {
            return true;
        }
        throw failure("kill", pid + ", 0", errno);
    }

    // ---------------------------------------------------------------- futex

    /**
     * {@code futex(word, FUTEX_WAIT, expected, timeout)} without {@code FUTEX_PRIVATE_FLAG}, so that a
     * {@link #futexWake} of another process that maps the same page wakes it. Sleeps only while the
     * 4-byte word at the start of {@code word} holds {@code expected} (the kernel checks it under its
     * own lock, so a change made before the call is never slept through).
     *
     * @param word a slice of a shared mapping, 4-byte aligned: the downcall keeps its arena open
     * @param timeoutNanos how long at most; negative waits without a limit
     * @return {@code false} if the timeout passed, {@code true} otherwise: woken, the word differed
     *         ({@code EAGAIN}), or a signal interrupted the wait ({@code EINTR}) — the caller re-checks
     *         its condition in every case
     */
    public static boolean futexWait(MemorySegment word, int expected, long timeoutNanos) {
        Scratch s = SCRATCH.get();
        MemorySegment timeout = MemorySegment.NULL;
        if (timeoutNanos >= 0) {
            timeout = s.timespec;
            dev.panmap.internal.generated.linux.timespec.tv_sec(timeout, timeoutNanos / 1_000_000_000L);
            dev.panmap.internal.generated.linux.timespec.tv_nsec(timeout, timeoutNanos % 1_000_000_000L);
        }
        long rc;
        try {
            rc = (long) FUTEX.invokeExact(s.errno, SYS_FUTEX, word, FUTEX_WAIT(), expected, timeout, MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw unexpected("futex", t);
        }
        if (rc == 0) {
            return true;
        }
        int errno = errno(s);
        if (errno == ETIMEDOUT()) {
            return false;
        }
        if (errno == EAGAIN() || errno == EINTR()) {
            return true;
        }
        throw failure("futex", "0x" + Long.toHexString(word.address()) + ", FUTEX_WAIT, " + expected + ", "
            + (timeoutNanos < 0 ? "NULL" : timeoutNanos + " ns"), errno);
    }

    /**
     * {@code futex(word, FUTEX_WAKE, count)} without {@code FUTEX_PRIVATE_FLAG}: wakes up to
     * {@code count} waiters of any process on the 4-byte word at the start of {@code word}.
     *
     * @return how many were woken
     */
    public static int futexWake(MemorySegment word, int count) {
        Scratch s = SCRATCH.get();
        long rc;
        try {
            rc = (long) FUTEX.invokeExact(s.errno, SYS_FUTEX, word, FUTEX_WAKE(), count, MemorySegment.NULL, MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw unexpected("futex", t);
        }
        if (rc < 0) {
            throw failure("futex", "0x" + Long.toHexString(word.address()) + ", FUTEX_WAKE, " + count, errno(s));
        }
        return (int) rc;
    }

    /** {@code sysconf(_SC_PAGESIZE)}. */
    public static long pageSize() {
        Scratch s = SCRATCH.get();
        long rc;
        try {
            rc = (long) SYSCONF.invokeExact(s.errno, _SC_PAGESIZE());
        } catch (Throwable t) {
            throw unexpected("sysconf", t);
        }
        if (rc <= 0) {
            throw failure("sysconf", "_SC_PAGESIZE", errno(s));
        }
        return rc;
    }

    /** {@code strerror(errno)}: the C library's text for an error number. */
    public static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.equals(MemorySegment.NULL) ? "errno " + errno : text.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw unexpected("strerror", t);
        }
    }

    // ---------------------------------------------------------------- errors

    static int errno(Scratch s) {
        return (int) ERRNO.get(s.errno, 0L);
    }

    static void check(int rc, String function, String arguments, Scratch s) {
        if (rc != 0) {
            throw failure(function, arguments, errno(s));
        }
    }

    /** A {@link NativeException} for {@code function(arguments)} failing with {@code errno}. */
    public static NativeException failure(String function, String arguments, int errno) {
        return new NativeException(Errno.kind(errno), function, arguments, errno, Errno.name(errno), strerror(errno));
    }

    /** {@return the symbolic name of an errno value} */
    public static String errnoName(int errno) {
        return Errno.name(errno);
    }

    static RuntimeException unexpected(String function, Throwable t) {
        if (t instanceof RuntimeException e) {
            return e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("downcall to " + function + " failed", t);
    }
}
