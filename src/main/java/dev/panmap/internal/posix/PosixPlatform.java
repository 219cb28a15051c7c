package dev.panmap.internal.posix;

import static dev.panmap.internal.RegionLayout.WRITER_LOCK_BYTE;
import static dev.panmap.internal.generated.linux.Libc.*;

import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.HugePages;
import dev.panmap.PageUsage;
import dev.panmap.internal.AddressBook;
import dev.panmap.internal.PagePlan;
import dev.panmap.internal.CountedHandle;
import dev.panmap.internal.Platform;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ArrayList;
import java.util.Set;

/** The Linux implementation of {@link Platform}: POSIX shm, {@code mmap}, open-file-description locks. */
public final class PosixPlatform implements Platform {

    /** Longest shared-memory name, in bytes without the leading slash (Linux NAME_MAX). */
    public static final int MAX_NAME_BYTES = 255;

    /**
     * Default base of DIRECT regions: 0x6000_8000_0000 (96 TiB and 2 GiB). On x86_64 Linux with 47-bit user
     * space, the kernel places {@code mmap} results (shared libraries, the JVM's heap reservations,
     * thread stacks) top-down from just under 128 TiB, and executables near the bottom; this sits far
     * from both, so a fresh process normally has it free. On aarch64 with 48-bit virtual addresses
     * (4 KiB pages, the usual distribution kernel) user space ends at 256 TiB and {@code mmap} works
     * down from there; a 52-bit kernel still hands out addresses below 2^48 unless a hint above asks
     * otherwise (the kernel's arm64 memory.rst). Both hold 96 TiB and the format's limit
     * ({@code RegionLayout.USER_SPACE_END}, 2^47, kept so that a region is attachable on either
     * architecture). An aarch64 kernel built with 39-bit (512 GiB) or 42-bit (4 TiB, 64 KiB pages)
     * addresses has no 96 TiB: DIRECT regions there need an explicit base (not tried: QEMU user mode,
     * the aarch64 environment here, lays out memory its own way).
     *
     * <p>Why 2 GiB past a 4 GiB boundary: HotSpot on aarch64 (JDK 25's) reserves its compressed class
     * space, with the CDS archive before it (1 GiB and 16 MiB by default), at a 4 GiB-aligned address
     * its decoding can use as an EOR immediate, the first free of 120 candidates tried from a random
     * one. 0x6000 << 32 is one of them: a base there would be taken in roughly one aarch64 JVM in 120.
     * The next candidate above is 0x7000 << 32, 16 TiB on, past the 64 slots
     * {@link #defaultDirectBase() DIRECT creation} tries (64 GiB apart, each 2 GiB past a boundary too).
     */
    public static final long DEFAULT_DIRECT_BASE = 0x6000_8000_0000L;

    private final long pageSize = Posix.pageSize();

    /** {@return whether panmap has Linux bindings for this value of {@code os.arch}} */
    public static boolean supportsArch(String osArch) {
        return LinuxAbi.forArch(osArch) != null;
    }

    /** The DIRECT address ranges this process holds; guarded by itself, for whole fixed-mapping operations. */
    private final AddressBook book = new AddressBook();

    /** A file descriptor, closed only when its last user lets go (see {@link CountedHandle}). */
    static final class Fd extends CountedHandle {
        final String what;
        private final int fd;
        /** How its pages are backed: a hugetlbfs file's huge pages, or transparent ones asked for; null for ordinary. */
        volatile PagePlan plan;
        /** What {@code fstat} said when {@link #open} checked the type, or null (a created object). */
        volatile Status atOpen;

        Fd(int fd, String what) {
            this.fd = fd;
            this.what = what;
        }

        /** {@return the descriptor number, held until {@link #release()}} */
        int use() {
            acquire();
            return fd;
        }

        @Override
        protected void closeNative() {
            Posix.close(fd);
        }

        @Override
        public String description() {
            return what + " (fd " + fd + ")";
        }
    }

    @Override
    public String name() {
        return "linux-" + LinuxAbi.current().arch();
    }

    @Override
    public long pageSize() {
        return pageSize;
    }

    @Override
    public long baseAlignment() {
        return pageSize;
    }

    @Override
    public long defaultDirectBase() {
        return DEFAULT_DIRECT_BASE;
    }

    /** POSIX shared memory has one namespace (per IPC namespace): {@code namespace} is not used. */
    @Override
    public String canonicalName(String name, RegionOptions.Namespace namespace) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("invalid region name \"\": a name needs at least one character");
        }
        String bare = name.startsWith("/") ? name.substring(1) : name;
        String rule = null;
        if (bare.isEmpty()) {
            rule = "a name needs at least one character after the leading '/'";
        } else if (bare.indexOf('/') >= 0) {
            rule = "only one leading '/' is allowed";
        } else if (bare.equals(".") || bare.equals("..")) {
            rule = "'.' and '..' are not names";
        } else if (bare.indexOf('\0') >= 0) {
            rule = "a name cannot contain NUL";
        } else if (bare.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            rule = "at most " + MAX_NAME_BYTES + " bytes after the leading '/'";
        }
        if (rule != null) {
            throw new IllegalArgumentException("invalid region name \"" + name + "\": " + rule);
        }
        return "/" + bare;
    }

    @Override
    public Handle create(Target target, long size, Creation creation) {
        // O_NONBLOCK: see open(); O_EXCL: never an existing object (nor a symbolic link's target: O_CREAT|O_EXCL
        // fails with EEXIST on a link); O_NOFOLLOW says it for a file once more (glibc's shm_open adds it)
        int flags = O_RDWR() | O_CLOEXEC() | O_NONBLOCK() | O_CREAT() | O_EXCL() | (target.file() ? LinuxAbi.current().oNoFollow() : 0);
        int fd = target.file() ? Posix.open(target.name(), flags, creation.permissions())
            : Posix.shmOpen(target.name(), flags, creation.permissions());
        Fd handle = new Fd(fd, describe(target));
        try {
            Posix.fchmod(fd, creation.permissions()); // the umask narrowed the mode given to open
            if (target.file()) {
                handle.plan = HugePageSupport.planOf(fd);
            }
            Posix.ftruncate(fd, size);
            if (creation.reserve()) {
                HugePageSupport.reserve(handle, fd, size);
            }
        } catch (RuntimeException e) {
            try {
                removeIfSame(target, handle); // not by name alone: someone may have made another object under it by now
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            close(handle);
            throw e;
        }
        return handle;
    }

    @Override
    public Handle open(Target target, boolean writable) {
        // O_NONBLOCK: opening a FIFO must not wait for a peer (the type is checked right after, before
        // anything touches it); it changes nothing for a regular file or a shared-memory object.
        // O_NOFOLLOW: a symbolic link as the last component is refused (ELOOP), never followed: one planted
        // in a sticky directory would point a root process at any file (glibc's shm_open adds it for names).
        // Links in the directories above are followed, as every program follows them (/var/run -> /run):
        // whoever can replace those directories can replace the file too
        int flags = (writable ? O_RDWR() : O_RDONLY()) | O_CLOEXEC() | O_NONBLOCK() | (target.file() ? LinuxAbi.current().oNoFollow() : 0);
        int fd = target.file() ? Posix.open(target.name(), flags, 0) : Posix.shmOpen(target.name(), flags, 0);
        Fd handle = new Fd(fd, describe(target));
        try {
            Posix.FileStatus st = Posix.fstat(fd);
            int type = st.mode() & S_IFMT();
            handle.atOpen = new Status(st.size(), st.permissions(), st.uid(), st.links());
            if (type != S_IFREG()) {
                throw new RegionException(ErrorKind.INVALID_ARGUMENT, target.name() + " is " + fileType(type)
                    + ", not a regular file: only a regular file or shared-memory object can hold a region");
            }
            if (target.file()) {
                handle.plan = HugePageSupport.planOf(fd);
            }
        } catch (RuntimeException e) {
            close(handle);
            throw e;
        }
        return handle;
    }

    private static String describe(Target target) {
        return (target.file() ? "file " : "shm ") + '"' + target.name() + '"';
    }

    private static String fileType(int type) {
        if (type == S_IFDIR()) {
            return "a directory";
        } else if (type == S_IFIFO()) {
            return "a FIFO";
        } else if (type == S_IFCHR()) {
            return "a character device";
        } else if (type == S_IFBLK()) {
            return "a block device";
        } else if (type == S_IFSOCK()) {
            return "a socket";
        }
        return "of file type 0" + Integer.toOctalString(type);
    }

    @Override
    public Status statusAtOpen(Handle handle) {
        Status s = ((Fd) handle).atOpen;
        return s != null ? s : status(handle);
    }

    @Override
    public Status status(Handle handle) {
        Fd fd = (Fd) handle;
        int n = fd.use();
        try {
            Posix.FileStatus st = Posix.fstat(n);
            return new Status(st.size(), st.permissions(), st.uid(), st.links());
        } finally {
            fd.release();
        }
    }

    @Override
    public void makeDurable(Handle handle, Target target) {
        if (!target.file()) {
            return; // shared memory lives in RAM: there is no disk to reach
        }
        Fd fd = (Fd) handle;
        int n = fd.use();
        try {
            Posix.fsync(n);
        } finally {
            fd.release();
        }
        // the new name must reach the disk too: fsync the directory that holds it
        Path parent = Path.of(target.name()).toAbsolutePath().getParent();
        int dir = Posix.open(parent.toString(), O_RDONLY() | LinuxAbi.current().oDirectory() | O_CLOEXEC(), 0);
        try {
            Posix.fsync(dir);
        } finally {
            Posix.close(dir);
        }
    }

    @Override
    public void close(Handle handle) {
        ((Fd) handle).close();
    }

    @Override
    public String remove(Target target) {
        if (target.file()) {
            try {
                Files.delete(Path.of(target.name()));
            } catch (java.nio.file.NoSuchFileException e) {
                throw Posix.failure("unlink", '"' + target.name() + '"', ENOENT());
            } catch (java.nio.file.AccessDeniedException e) {
                throw Posix.failure("unlink", '"' + target.name() + '"', EACCES());
            } catch (IOException e) {
                throw new RegionException(ErrorKind.IO_ERROR, "unlink(\"" + target.name() + "\") failed: " + e.getMessage(), e);
            }
        } else {
            Posix.shmUnlink(target.name());
        }
        return "removed " + describe(target) + "; processes that have it open keep it until they close";
    }

    @Override
    public boolean removeIfSame(Target target, Handle handle) {
        Posix.FileStatus ours = withFd(handle, Posix::fstat);
        Path path = target.file() ? Path.of(target.name()) : Path.of("/dev/shm", target.name().substring(1)); // glibc's shm_open
        try {
            java.util.Map<String, Object> named = Files.readAttributes(path, "unix:dev,ino", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (((Number) named.get("dev")).longValue() != ours.device() || ((Number) named.get("ino")).longValue() != ours.inode()) {
                return false; // the name is someone else's object now
            }
        } catch (IOException | UnsupportedOperationException e) {
            return false; // gone already, or not ours to judge: leave it
        }
        remove(target);
        return true;
    }

    /**
     * Checks the book against the kernel's view ({@code /proc/self/maps}), holding the book so that no
     * mapping changes meanwhile: inside each live range there may be only the owner's object (same
     * device and inode as its descriptor) and panmap's anonymous reservations. (For tests and tools.)
     *
     * @return one line per mapping that breaks that, empty if none
     */
    public List<String> auditMappings() {
        synchronized (book) {
            List<String> maps;
            try {
                maps = Files.readAllLines(Path.of("/proc/self/maps"));
            } catch (IOException e) {
                return List.of("cannot read /proc/self/maps: " + e);
            }
            List<String> problems = new ArrayList<>();
            for (AddressBook.Live live : book.liveMappings()) {
                if (AddressBook.isRetired(live.owner())) {
                    for (String line : maps) {
                        String[] f = line.trim().split("\\s+", 6);
                        if (f.length >= 5 && Long.parseLong(f[4]) != 0 && overlaps(f[0], live)) {
                            problems.add("inside the closed mapping " + Flags.hex(live.start()) + "-" + Flags.hex(live.end()) + " of "
                                + live.what() + ", which holds only zero pages: " + line.replaceAll("\\s+", " "));
                        }
                    }
                    continue;
                }
                Posix.FileStatus owner;
                try {
                    owner = withFd((Handle) live.owner(), Posix::fstat);
                } catch (IllegalStateException closed) {
                    problems.add("live mapping " + Flags.hex(live.start()) + " of " + live.what() + ", whose descriptor is closed");
                    continue;
                }
                long major = Flags.major(owner.device());
                long minor = Flags.minor(owner.device());
                for (String line : maps) {
                    String[] f = line.trim().split("\\s+", 6);
                    if (f.length < 5) {
                        continue;
                    }
                    long inode = Long.parseLong(f[4]);
                    if (!overlaps(f[0], live) || inode == 0) {
                        continue; // outside, or anonymous (a reservation)
                    }
                    String[] dev = f[3].split(":");
                    if (inode != owner.inode() || Long.parseLong(dev[0], 16) != major || Long.parseLong(dev[1], 16) != minor) {
                        problems.add("inside the live mapping " + Flags.hex(live.start()) + "-" + Flags.hex(live.end()) + " of "
                            + live.what() + " (inode " + owner.inode() + "): " + line.replaceAll("\\s+", " "));
                    }
                }
            }
            return problems;
        }
    }

    /** {@return whether a {@code /proc/self/maps} range {@code from-to} (hex) overlaps {@code live}} */
    private static boolean overlaps(String range, AddressBook.Live live) {
        int dash = range.indexOf('-');
        long from = Long.parseUnsignedLong(range.substring(0, dash), 16);
        long to = Long.parseUnsignedLong(range.substring(dash + 1), 16);
        return from < live.end() && to > live.start();
    }

    private static final int RESERVATION_FLAGS = MAP_PRIVATE() | MAP_ANONYMOUS() | MAP_NORESERVE();

    /** The most growth room a closed mapping leaves reserved for reuse (see {@link #unmap}). */
    private static final long KEPT_ROOM = 1L << 30;

    @Override
    public long map(Handle handle, long size, long span, Access access, long fixedAddress, boolean populate) {
        if (span < size) {
            throw new IllegalArgumentException("span " + span + " < size " + size);
        }
        span = (span + pageSize - 1) / pageSize * pageSize; // a raw region's object need not be whole pages: its mapping is, and so is the book
        int prot = prot(access);
        int flags = flags(access) | (populate ? MAP_POPULATE() : 0);
        Fd fd = (Fd) handle;
        PagePlan plan = fd.plan;
        int n = fd.use();
        try {
            long address = fixedAddress == 0 ? mapAnywhere(fd, n, size, span, prot, flags) : mapFixed(fd, n, size, span, prot, flags, fixedAddress);
            if (plan != null && plan.transparent()) {
                HugePageSupport.adviseHuge(address, size);
            }
            return address;
        } finally {
            fd.release();
        }
    }

    private static int prot(Access access) {
        return access == Access.READ_ONLY ? PROT_READ() : PROT_READ() | PROT_WRITE();
    }

    private static int flags(Access access) {
        return access == Access.COPY_ON_WRITE ? MAP_PRIVATE() : MAP_SHARED();
    }

    /**
     * Maps bytes {@code [mappedSize, newSize)} of the object at {@code address + mappedSize}, over this
     * process's own zero reservation of the mapping's span ({@code MAP_FIXED} replaces nothing else).
     */
    @Override
    public void mapMore(Handle handle, long address, long mappedSize, long newSize, Access access) {
        Fd fd = (Fd) handle;
        int n = fd.use();
        try {
            dev.panmap.internal.TestPoints.hit("mapMore.beforeBook");
            synchronized (book) {
                AddressBook.Live live = book.liveOf(address, fd);
                if (live == null) { // unmapped by a close: the range may hold another region now, never map over it
                    throw new IllegalStateException(fd.what + " is no longer mapped at " + Flags.hex(address) + " (closed)");
                }
                if (newSize > live.end() - live.start()) {
                    throw new RegionException(ErrorKind.INVALID_ARGUMENT, fd.what + ": " + newSize + " bytes do not fit the "
                        + (live.end() - live.start()) + " bytes of address space kept at " + Flags.hex(address));
                }
                mapOverOwnReservation(address + mappedSize, newSize - mappedSize, prot(access), flags(access), n, mappedSize);
            }
        } finally {
            fd.release();
        }
    }

    /**
     * Grows the object: with {@code reserve}, {@code posix_fallocate} of the new part (which also sets
     * the size), so a full file system fails here with NO_SPACE; otherwise {@code ftruncate}. A failure
     * leaves the object at its old size.
     */
    @Override
    public void extend(Handle handle, long oldSize, long newSize, boolean reserve) {
        Fd fd = (Fd) handle;
        int n = fd.use();
        try {
            if (!reserve) {
                Posix.ftruncate(n, newSize);
                return;
            }
            try {
                Posix.posixFallocate(n, oldSize, newSize - oldSize);
            } catch (NativeException e) {
                try {
                    if (Posix.fstat(n).size() != oldSize) {
                        Posix.ftruncate(n, oldSize);
                    }
                } catch (NativeException again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
        } finally {
            fd.release();
        }
    }

    /** Lays a read-only zero reservation over {@code [address, address+size)}, part of a live mapping whose object shrank. */
    @Override
    public void coverTruncated(Handle handle, long address, long size) {
        synchronized (book) {
            AddressBook.Live live = book.liveOverlapping(address, address + size);
            if (live == null || live.owner() != handle || address < live.start() || address + size > live.end()) {
                throw new IllegalStateException(((Fd) handle).what + " has no live mapping around " + Flags.hex(address) + "+" + size);
            }
            Posix.mmap(address, size, PROT_READ(), RESERVATION_FLAGS | MAP_FIXED(), -1, 0);
        }
    }

    /**
     * A look is a real mapping, read live: a {@code pread} copy would save the 3 us of an mmap and
     * munmap, but the kernel copies with string instructions, which do not promise an aligned 8-byte
     * field whole, and a header's size and generation are stored while others look.
     */
    @Override
    public long mapTransient(Handle handle, long size) {
        Fd fd = (Fd) handle;
        int n = fd.use();
        try {
            return Posix.mmap(0, size, PROT_READ(), MAP_SHARED(), n, 0);
        } finally {
            fd.release();
        }
    }

    /**
     * Maps where the system likes, or into an anywhere-kind reservation of panmap's that fits; keeps
     * {@code span} bytes of address space, the part past {@code size} as a zero reservation for growth.
     * A huge-page object's mapping starts on a huge page (its plan's alignment).
     */
    private long mapAnywhere(Fd fd, int n, long size, long span, int prot, int flags) {
        PagePlan plan = fd.plan;
        long alignment = plan == null ? pageSize : Math.max(pageSize, plan.alignment());
        synchronized (book) {
            long at = alignment == pageSize ? book.fitAnywhere(span) : book.fitAnywhere(span, alignment);
            if (at == 0 && span > size && alignment == pageSize) {
                at = widenReservation(size, span);
            }
            long address;
            if (at != 0) {
                address = mapOverReservation(at, size, prot, flags, n);
                book.unreserve(at, at + span);
            } else if (span == size) {
                address = Posix.mmap(0, size, prot, flags, n, 0); // the kernel aligns hugetlb and THP-able tmpfs mappings itself
            } else {
                long room = span + (alignment == pageSize ? 0 : alignment);
                long reserved = Posix.mmap(0, room, PROT_READ(), RESERVATION_FLAGS, -1, 0); // fresh: not in the book
                address = (reserved + alignment - 1) & -alignment;
                if (address > reserved) {
                    Posix.munmap(reserved, address - reserved);
                }
                if (reserved + room > address + span) {
                    Posix.munmap(address + span, reserved + room - address - span);
                }
                try {
                    Posix.mmap(address, size, prot, flags | MAP_FIXED(), n, 0);
                } catch (NativeException e) {
                    Posix.munmap(address, span);
                    throw e;
                }
            }
            book.addLive(address, address + span, fd.what, true, fd);
            return address;
        }
    }

    /**
     * A close gives back a mapping's growth room and keeps only what was mapped: so that the next
     * mapping with room to grow can still reuse such a reservation, the room past its end is reserved
     * again here with {@code MAP_FIXED_NOREPLACE} (nothing foreign is replaced; where something is in
     * the way, the next reservation is tried). {@return the start of a reservation now {@code span}
     * long, or 0}
     */
    private long widenReservation(long size, long span) {
        for (long[] r : book.anywhereAtLeast(size)) {
            long want = r[0] + span;
            try {
                Posix.mmap(r[1], want - r[1], PROT_READ(), RESERVATION_FLAGS | MAP_FIXED_NOREPLACE(), -1, 0);
            } catch (NativeException e) {
                if (e.kind() == ErrorKind.ADDRESS_IN_USE) {
                    continue;
                }
                throw e;
            }
            book.reserve(r[1], want, true); // merges with the reservation before it
            return r[0];
        }
        return 0;
    }

    /** Maps with {@code MAP_FIXED} over a range that is entirely panmap's reservation, and takes it out of the book. */
    private long mapOverReservation(long address, long size, int prot, int flags, int n) {
        try {
            mapOverOwnReservation(address, size, prot, flags, n, 0);
        } catch (NativeException e) {
            if (java.util.Arrays.stream(e.getSuppressed()).anyMatch(NativeException.class::isInstance)) {
                book.unreserve(address, address + size); // not even the reservation could be laid again
            }
            throw e;
        }
        book.unreserve(address, address + size);
        return address;
    }

    /**
     * {@code mmap(address, size, ..., MAP_FIXED, n, offset)} over a range that is panmap's own zero
     * reservation. A failed {@code MAP_FIXED} may have removed part of the reservation: it is laid
     * again, so the range is never left unmapped (if even that fails, the second failure is attached).
     */
    private static void mapOverOwnReservation(long address, long size, int prot, int flags, int n, long offset) {
        try {
            Posix.mmap(address, size, prot, flags | MAP_FIXED(), n, offset);
        } catch (NativeException e) {
            try {
                Posix.mmap(address, size, PROT_READ(), RESERVATION_FLAGS | MAP_FIXED(), -1, 0);
            } catch (NativeException again) { // the range may now be unmapped: the caller gives it up
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * Maps at exactly {@code address} without ever replacing a mapping panmap did not make: the parts
     * of the range that are not panmap's own reservations are reserved first with
     * {@code MAP_FIXED_NOREPLACE} (failing with ADDRESS_IN_USE if anything is there), and then the
     * object is mapped with {@code MAP_FIXED} over what is now entirely panmap's reservation.
     */
    private long mapFixed(Fd fd, int n, long size, long span, int prot, int flags, long address) {
        long end = address + span;
        String args = Flags.hex(address) + ", " + span + ", " + Flags.prot(prot) + ", " + Flags.map(flags | MAP_FIXED_NOREPLACE()) + ", " + n + ", 0";
        if (size <= 0 || end < address) {
            throw Posix.failure("mmap", args, EINVAL());
        }
        PagePlan plan = fd.plan;
        if (plan != null && address % plan.alignment() != 0) {
            throw new NativeException(ErrorKind.INVALID_ARGUMENT, "mmap", args, EINVAL(), "EINVAL", Posix.strerror(EINVAL())
                + "; " + fd.what + " has " + (plan.hugetlbPageSize() != 0 ? "hugetlb" : "transparent huge") + " pages of "
                + plan.alignment() + " bytes: a fixed base must be aligned to them");
        }
        synchronized (book) {
            AddressBook.Live occupant = book.liveOverlapping(address, end);
            if (occupant != null) {
                throw new NativeException(ErrorKind.ADDRESS_IN_USE, "mmap", args, EEXIST(), "EEXIST", Posix.strerror(EEXIST())
                    + "; occupied by panmap's own " + (AddressBook.isRetired(occupant.owner()) ? "" : "DIRECT ") + "mapping of " + occupant.what() + " at " + Flags.hex(occupant.start())
                    + "-" + Flags.hex(occupant.end()) + (AddressBook.isRetired(occupant.owner())
                        ? ", closed in this process, its range held until the regions opened with it are closed too (CloseBatch)"
                        : ", open in this process: close it first, or use another base"));
            }
            List<long[]> made = new ArrayList<>();
            long[] trying = null;
            try {
                for (long[] gap : book.gaps(address, end)) {
                    trying = gap;
                    Posix.mmap(gap[0], gap[1] - gap[0], PROT_READ(), RESERVATION_FLAGS | MAP_FIXED_NOREPLACE(), -1, 0);
                    made.add(gap);
                }
            } catch (NativeException e) {
                for (long[] gap : made) { // fresh, never handed out: nobody can be reading them
                    Posix.munmap(gap[0], gap[1] - gap[0]);
                }
                if (e.kind() != ErrorKind.ADDRESS_IN_USE) {
                    throw e;
                }
                String foreign = describeAddressRange(trying[0], trying[1] - trying[0]); // not panmap's own part
                throw new NativeException(ErrorKind.ADDRESS_IN_USE, "mmap", args, e.errorCode(), e.errorName(), e.errorMessage()
                    + "; occupied by a mapping panmap did not make" + (foreign.isEmpty() ? "" : ": " + foreign));
            }
            for (long[] gap : made) {
                book.reserve(gap[0], gap[1], false);
            }
            mapOverReservation(address, size, prot, flags, n); // panmap's own reservation only
            book.unreserve(address, end); // the rest of the span stays a zero reservation, kept for growth
            book.addLive(address, end, fd.what, false, fd);
            return address;
        }
    }

    /**
     * Unmaps. A region's mapping is not given back to the system: a read-only, zero-filled
     * reservation that costs no memory replaces it in one step ({@code MAP_FIXED} over it), and the
     * book keeps the range for a later mapping of its kind. See {@link AddressBook}.
     */
    @Override
    public void unmap(long address, long size) {
        synchronized (book) {
            AddressBook.Live live = book.removeLive(address);
            if (live == null) {
                Posix.munmap(address, size);
                return;
            }
            // what was mapped becomes a zero reservation that stays (a racing reader may still be in it). The
            // growth room past it was never mapped, so nobody reads it: up to 1 GiB it stays reserved too,
            // so that the next region with room to grow reuses the whole span (what panmap holds stays
            // bounded by what was open at once); a larger room goes back to the system, so that a span,
            // however large (a forged header's, say), costs nothing after the close
            long mapped = Math.min(Math.max(size, 0), live.end() - live.start());
            long keep = live.end() - live.start() - mapped <= KEPT_ROOM ? live.end() - live.start() : mapped;
            if (live.owner() != AddressBook.RETIRED_READ_ONLY) { // that one holds read-only zero pages already: a reservation
                Posix.mmap(live.start(), keep, PROT_READ(), RESERVATION_FLAGS | MAP_FIXED(), -1, 0);
            }
            book.reserve(live.start(), live.start() + keep, live.placedAnywhere());
            if (live.start() + keep < live.end()) {
                Posix.munmap(live.start() + keep, live.end() - live.start() - keep);
            }
        }
    }

    @Override
    public void retire(Handle handle, long address, long size, boolean writable) {
        synchronized (book) {
            AddressBook.Live live = book.liveOf(address, handle);
            if (live == null) {
                throw new IllegalStateException(((Fd) handle).what + " has no live mapping at " + Flags.hex(address));
            }
            long page = pageSize(); // a raw region's size need not be whole pages: the book's ranges are
            long mapped = Math.min((Math.max(size, 0) + page - 1) / page * page, live.end() - live.start());
            Posix.mmap(live.start(), mapped, writable ? PROT_READ() | PROT_WRITE() : PROT_READ(), RESERVATION_FLAGS | MAP_FIXED(), -1, 0);
            book.removeLive(address);
            book.addLive(live.start(), live.start() + mapped, live.what(), live.placedAnywhere(), writable ? AddressBook.RETIRED : AddressBook.RETIRED_READ_ONLY);
            // the growth room past it was never mapped, so no segment reaches it: it is given back now, as unmap does
            long room = live.end() - live.start() - mapped;
            if (room > KEPT_ROOM) {
                Posix.munmap(live.start() + mapped, room);
            } else if (room > 0) {
                book.reserve(live.start() + mapped, live.end(), live.placedAnywhere());
            }
        }
    }

    /** {@return how many mappings the book holds as live: open regions', and closed ones' not yet given back} (for tests and tools) */
    public int liveMappingCount() {
        synchronized (book) {
            return book.liveMappings().size();
        }
    }

    /** {@return this process's reservations, as {start, end, 1 if placed anywhere else 0}} (for tests and tools) */
    public List<long[]> reservedRanges() {
        synchronized (book) {
            return book.reservedRanges();
        }
    }

    @Override
    public void flush(MemorySegment range, boolean sync) {
        Posix.msync(range, sync ? MS_SYNC() : MS_ASYNC());
    }

    @Override
    public void advise(MemorySegment range, Advice advice) {
        int value = switch (advice) {
            case NORMAL -> MADV_NORMAL();
            case SEQUENTIAL -> MADV_SEQUENTIAL();
            case RANDOM -> MADV_RANDOM();
            case WILL_NEED -> MADV_WILLNEED();
            case DONT_NEED -> MADV_DONTNEED();
        };
        Posix.madvise(range, value, "MADV_" + advice.name().replace("_", ""));
    }

    @Override
    public void lockMemory(MemorySegment range) {
        Posix.mlock(range);
    }

    @Override
    public boolean resident(MemorySegment page) {
        return Posix.resident(page);
    }

    @Override
    public void unlockMemory(MemorySegment range) {
        Posix.munlock(range);
    }

    // ------------------------------------------------------------------ huge pages and anonymous regions

    @Override
    public PagePlan planPages(Target target, HugePages policy, long hugePageSize) {
        return HugePageSupport.plan(target, policy, hugePageSize, pageSize);
    }

    @Override
    public PagePlan pagePlan(Handle handle) {
        PagePlan plan = ((Fd) handle).plan;
        return plan != null ? plan : PagePlan.ordinary(pageSize, null);
    }

    @Override
    public void useTransparentHugePages(Handle handle) {
        Fd fd = (Fd) handle;
        if (fd.plan == null) {
            fd.plan = PagePlan.transparentPages();
        }
    }

    @Override
    public Handle createAnonymous(String name, long size, Creation creation, PagePlan plan, boolean preferred, boolean sealGrowth) {
        return HugePageSupport.createAnonymous(name, size, creation, plan, preferred, sealGrowth, pageSize);
    }

    @Override
    public PageUsage pageUsage(long address, long size) {
        return HugePageSupport.pageUsage(address, size);
    }

    @Override
    public Listener listen(String path, int permissions, Set<Integer> allowedUids) {
        return new FdListener(path, permissions, allowedUids);
    }

    @Override
    public Received receive(String path, Duration timeout, boolean writable) {
        return FdListener.receive(path, timeout, writable);
    }

    @Override
    public int currentUid() {
        return Memfd.geteuid();
    }

    @Override
    public String describeAddressRange(long address, long size) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException e) {
            return "";
        }
        long end = address + size;
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash < 0 || space < dash) {
                continue;
            }
            long from = Long.parseUnsignedLong(line, 0, dash, 16);
            long to = Long.parseUnsignedLong(line, dash + 1, space, 16);
            if (Long.compareUnsigned(from, end) < 0 && Long.compareUnsigned(address, to) < 0) {
                if (!out.isEmpty()) {
                    out.append(" | ");
                }
                out.append(line.replaceAll("\\s+", " ").trim());
            }
        }
        return out.toString();
    }

    /** Liveness is the kernel's: an OFD lock per attach slot, dropped when its process dies. */
    @Override
    public boolean kernelLiveness(Handle handle) {
        return true;
    }

    @Override
    public boolean tryLockByte(Handle handle, long offset) {
        return withFd(handle, n -> Posix.ofdLock(n, offset, 1, false));
    }

    @Override
    public void unlockByte(Handle handle, long offset) {
        withFd(handle, n -> {
            Posix.ofdUnlock(n, offset, 1);
            return null;
        });
    }

    @Override
    public boolean lockedElsewhere(Handle handle, long offset) {
        Fd fd = (Fd) handle; // not withFd: its lambda would capture the offset, an allocation per liveness check
        int n = fd.use();
        try {
            return Posix.ofdLockedElsewhere(n, offset, 1);
        } finally {
            fd.release();
        }
    }

    @Override
    public List<ByteLock> locksHeld(Handle handle, long offset, long count) {
        return withFd(handle, n -> LockOwners.held(n, offset, count, selfPid));
    }

    @Override
    public boolean tryLockWriter(Handle handle) {
        return tryLockByte(handle, WRITER_LOCK_BYTE);
    }

    @Override
    public void unlockWriter(Handle handle) {
        unlockByte(handle, WRITER_LOCK_BYTE);
    }

    /** Runs {@code call} with the handle's descriptor held (see {@link Fd}). */
    private static <T> T withFd(Handle handle, java.util.function.IntFunction<T> call) {
        Fd fd = (Fd) handle;
        int n = fd.use();
        try {
            return call.apply(n);
        } finally {
            fd.release();
        }
    }

    @Override
    public boolean waitOnAddress(MemorySegment word, int expected, long timeoutNanos) {
        return Posix.futexWait(word, expected, timeoutNanos);
    }

    @Override
    public int wakeAddress(MemorySegment word, int count) {
        return Posix.futexWake(word, count);
    }

    @Override
    public int currentPid() {
        return selfPid;
    }

    @Override
    public boolean processExists(int pid) {
        return pid == selfPid || Posix.processExists(pid); // this process's own slots: no kill(2) needed
    }

    /** This process's pid and start time, read once: every open asks for them, and they never change. */
    private final int selfPid = Posix.getpid();
    private volatile long selfStartTime = -1;

    @Override
    public long processStartTime(int pid) {
        if (pid <= 0) {
            return -1;
        }
        if (pid == selfPid) { // /proc/self/stat costs ~12 us a read: half of an attach, before this cache
            long known = selfStartTime;
            return known >= 0 ? known : (selfStartTime = readStartTime(pid));
        }
        return readStartTime(pid);
    }

    private static long readStartTime(int pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        } catch (IOException e) {
            return -1;
        }
        // field 22 (starttime); the command name (field 2) is in parentheses and may hold spaces
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[22 - 3]);
    }
}
