package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;

import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.internal.Platform;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** The Linux implementation of {@link Platform}: POSIX shm, {@code mmap}, open-file-description locks. */
public final class PosixPlatform implements Platform {

    /** Longest shared-memory name, in bytes without the leading slash (Linux NAME_MAX). */
    public static final int MAX_NAME_BYTES = 255;

    /**
     * Default base of DIRECT regions: 0x6000_0000_0000 (96 TiB). On x86_64 Linux with 47-bit user
     * space, the kernel places {@code mmap} results (shared libraries, the JVM's heap reservations,
     * thread stacks) top-down from just under 128 TiB, and executables near the bottom; this sits far
     * from both, so a fresh process normally has it free.
     */
    public static final long DEFAULT_DIRECT_BASE = 0x6000_0000_0000L;

    /** The byte offset of the writer lock's one-byte OFD lock range (beyond any real size). */
    private static final long WRITER_LOCK_BYTE = Long.MAX_VALUE - 1;

    private final long pageSize = Posix.pageSize();

    /** Reservations left by {@link #retire}: start address -> size. */
    private final java.util.concurrent.ConcurrentSkipListMap<Long, Long> retired = new java.util.concurrent.ConcurrentSkipListMap<>();

    /** A file descriptor, closed at most once. */
    static final class Fd implements Handle {
        final int fd;
        final String what;
        final AtomicBoolean closed = new AtomicBoolean();

        Fd(int fd, String what) {
            this.fd = fd;
            this.what = what;
        }

        @Override
        public String description() {
            return what + " (fd " + fd + ")";
        }
    }

    private static Fd fd(Handle handle) {
        Fd fd = (Fd) handle;
        if (fd.closed.get()) {
            throw new IllegalStateException(fd.description() + " is closed");
        }
        return fd;
    }

    @Override
    public String name() {
        return "linux-x86_64";
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

    @Override
    public String canonicalName(String name) {
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
    public Handle open(Target target, Create create, boolean writable, int permissions) {
        int flags = (writable ? O_RDWR() : O_RDONLY()) | O_CLOEXEC();
        if (create == Create.EXCLUSIVE) {
            flags |= O_CREAT() | O_EXCL();
        }
        int mode = create == Create.EXCLUSIVE ? permissions : 0;
        int fd = target.file() ? Posix.open(target.name(), flags, mode) : Posix.shmOpen(target.name(), flags, mode);
        Fd handle = new Fd(fd, (target.file() ? "file " : "shm ") + '"' + target.name() + '"');
        if (create == Create.EXCLUSIVE) {
            try {
                Posix.fchmod(fd, permissions); // the umask narrowed the mode given to open
            } catch (RuntimeException e) {
                close(handle);
                remove(target);
                throw e;
            }
        }
        return handle;
    }

    @Override
    public Status status(Handle handle) {
        Posix.FileStatus st = Posix.fstat(fd(handle).fd);
        return new Status(st.size(), st.permissions(), st.uid());
    }

    @Override
    public void setSize(Handle handle, long size, boolean reserve) {
        Fd fd = fd(handle);
        Posix.ftruncate(fd.fd, size);
        if (reserve) {
            Posix.posixFallocate(fd.fd, 0, size);
        }
    }

    @Override
    public void close(Handle handle) {
        Fd fd = (Fd) handle;
        if (fd.closed.compareAndSet(false, true)) {
            Posix.close(fd.fd);
        }
    }

    @Override
    public void remove(Target target) {
        if (target.file()) {
            try {
                Files.delete(Path.of(target.name()));
            } catch (java.nio.file.NoSuchFileException e) {
                throw Posix.failure("unlink", '"' + target.name() + '"', ENOENT());
            } catch (java.nio.file.AccessDeniedException e) {
                throw Posix.failure("unlink", '"' + target.name() + '"', EACCES());
            } catch (IOException e) {
                throw new dev.panmap.RegionException(ErrorKind.IO_ERROR, "unlink(\"" + target.name() + "\") failed: " + e.getMessage(), e);
            }
        } else {
            Posix.shmUnlink(target.name());
        }
    }

    @Override
    public long map(Handle handle, long size, Access access, long fixedAddress, boolean populate) {
        int prot = access == Access.READ_ONLY ? PROT_READ() : PROT_READ() | PROT_WRITE();
        int flags = access == Access.COPY_ON_WRITE ? MAP_PRIVATE() : MAP_SHARED();
        boolean reuse = fixedAddress != 0 && takeRetired(fixedAddress, size);
        if (reuse) {
            flags |= MAP_FIXED(); // over this process's own read-only reservation, nothing else
        } else if (fixedAddress != 0) {
            flags |= MAP_FIXED_NOREPLACE();
        }
        if (populate) {
            flags |= MAP_POPULATE();
        }
        try {
            return Posix.mmap(fixedAddress, size, prot, flags, fd(handle).fd, 0);
        } catch (NativeException e) {
            if (reuse) { // MAP_FIXED failed, and may have removed the reservation already: lay it again
                try {
                    retire(fixedAddress, size);
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            if (e.kind() == ErrorKind.ADDRESS_IN_USE) {
                String occupant = describeAddressRange(fixedAddress, size);
                throw new NativeException(ErrorKind.ADDRESS_IN_USE, e.function(), e.arguments(), e.errorCode(), e.errorName(),
                    e.errorMessage() + (occupant.isEmpty() ? "" : "; occupied by: " + occupant));
            }
            throw e;
        }
    }

    @Override
    public void unmap(long address, long size) {
        Posix.munmap(address, size);
    }

    @Override
    public void retire(long address, long size) {
        long placed = Posix.mmap(address, size, PROT_READ(), MAP_PRIVATE() | MAP_ANONYMOUS() | MAP_NORESERVE() | MAP_FIXED(), -1, 0);
        if (placed != address) {
            throw new IllegalStateException("mmap(MAP_FIXED) placed a reservation at 0x" + Long.toHexString(placed)
                + " instead of 0x" + Long.toHexString(address));
        }
        retired.put(address, size);
    }

    /**
     * If {@code [address, address+size)} lies inside one reservation left by {@link #retire}, takes it
     * out of the book (keeping what is left of it on either side) and returns true.
     */
    private synchronized boolean takeRetired(long address, long size) {
        var entry = retired.floorEntry(address);
        if (entry == null || entry.getKey() + entry.getValue() < address + size) {
            return false;
        }
        long start = entry.getKey();
        long end = start + entry.getValue();
        retired.remove(start);
        if (start < address) {
            retired.put(start, address - start);
        }
        if (address + size < end) {
            retired.put(address + size, end - address - size);
        }
        return true;
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
    public void unlockMemory(MemorySegment range) {
        Posix.munlock(range);
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

    @Override
    public boolean tryLockWriter(Handle handle) {
        return Posix.ofdLock(fd(handle).fd, WRITER_LOCK_BYTE, 1, false);
    }

    @Override
    public void unlockWriter(Handle handle) {
        Posix.ofdUnlock(fd(handle).fd, WRITER_LOCK_BYTE, 1);
    }

    @Override
    public int currentPid() {
        return Posix.getpid();
    }

    @Override
    public boolean processExists(int pid) {
        return Posix.processExists(pid);
    }

    @Override
    public long processStartTime(int pid) {
        if (pid <= 0) {
            return -1;
        }
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
