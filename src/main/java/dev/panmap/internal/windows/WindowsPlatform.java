package dev.panmap.internal.windows;

import static dev.panmap.internal.generated.windows.Win32.*;

import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.internal.AddressBook;
import dev.panmap.internal.CountedHandle;
import dev.panmap.internal.Platform;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Windows x64 implementation of {@link Platform}.
 *
 * <ul>
 *   <li><b>Named regions</b> are page-file-backed sections ({@code CreateFileMappingW(INVALID_HANDLE_VALUE,
 *       ..., PAGE_READWRITE|SEC_COMMIT, high, low, name)}, {@code OpenFileMappingW}); the size is fixed
 *       when the section is created, and the commit charge is taken then (a full page file fails the
 *       create with {@code ERROR_COMMITMENT_LIMIT}: NO_MEMORY). Such a section has no name in any file
 *       system and cannot be removed: it vanishes when the last handle and view of it close, in every
 *       process. {@link #remove} checks that it exists and says so.</li>
 *   <li><b>File regions</b> are {@code CreateFileW} + an unnamed {@code CreateFileMappingW} per mapping
 *       (the view keeps it alive, so the section handle is closed at once). Files are opened with
 *       {@code FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE}, as POSIX would allow; their size is
 *       set with {@code SetFilePointerEx} + {@code SetEndOfFile}, which allocates the clusters (files are
 *       not sparse), so {@code reserve} is always in effect.</li>
 *   <li><b>Views</b>: {@code MapViewOfFileEx} at the base in DIRECT mode (it never replaces anything:
 *       a taken base fails with {@code ERROR_INVALID_ADDRESS}, reported as ADDRESS_IN_USE with what
 *       {@code VirtualQuery} says is there), anywhere otherwise. Bases are multiples of the 64 KiB
 *       allocation granularity ({@link #baseAlignment()}). {@code UnmapViewOfFile} gives a view back
 *       at once: Windows has no call that replaces a view by another mapping in one step
 *       ({@code VirtualAlloc2}/{@code MapViewOfFile3} placeholders leave a no-access window between
 *       the unmap and the next map), so the POSIX backend's close guarantee (a racing unchecked reader
 *       reads zeros, never faults) is <b>not kept</b> here: close a region only when no thread of this
 *       process still reads it through the structures' DIRECT paths.</li>
 *   <li><b>The writer lock</b>: on a file, {@code LockFileEx} of the byte at 2<sup>63</sup>-2 (beyond any
 *       real size, as on Linux), released by the system when the handle closes or the process dies;
 *       on a page-file section, a named mutex ({@code <name>#panmap-writer-lock}) whose
 *       {@code WAIT_ABANDONED} is the stale case. A mutex belongs to the <em>thread</em> that took it:
 *       it is released by that thread only (a virtual thread that moved to another carrier gets
 *       {@code ERROR_NOT_OWNER}), and a region closed by another thread while the lock is held leaves
 *       the mutex owned until the owning thread ends, when it becomes abandoned.</li>
 *   <li><b>Processes</b>: {@code GetCurrentProcessId}; alive = {@code OpenProcess} +
 *       {@code WaitForSingleObject(h, 0) == WAIT_TIMEOUT}, or access denied (it exists); start time =
 *       the creation time from {@code GetProcessTimes}, in milliseconds since 1601.</li>
 *   <li><b>Errors</b>: {@code GetLastError}, captured by the downcall ({@link Win32Api}), mapped to the
 *       same {@link ErrorKind}s as POSIX, with {@code FormatMessageW}'s text.</li>
 * </ul>
 */
public final class WindowsPlatform implements Platform {

    /** Default base of DIRECT regions, as on Linux: far from where Windows places images, heaps and stacks. */
    public static final long DEFAULT_DIRECT_BASE = 0x6000_0000_0000L;

    /** The longest name CreateMutexW/CreateFileMappingW are documented to take (MAX_PATH), with the lock's suffix. */
    static final int MAX_NAME_CHARS = 260;

    /** The suffix of the writer lock's named mutex, after the section's full name. */
    static final String LOCK_SUFFIX = "#panmap-writer-lock";

    /** The byte the file writer lock locks: beyond any real size, as on Linux. */
    private static final long WRITER_LOCK_BYTE = dev.panmap.internal.RegionLayout.WRITER_LOCK_BYTE;

    /** FILETIME ticks (100 ns) per millisecond. */
    private static final long FILETIME_PER_MILLI = 10_000;

    private final Win32Api api;
    private final long pageSize;
    private final long granularity;

    /** Live views of this process: for messages, and so flush() finds a view's file. Guarded by itself. */
    private final AddressBook book = new AddressBook();
    private final TreeMap<Long, View> views = new TreeMap<>();

    private record View(long end, Handle handle) {}

    private volatile String userSid;

    /**
     * The backend on Windows: loads {@code kernel32} and {@code advapi32} (only now, when it is
     * selected) and captures {@code GetLastError}.
     */
    public static WindowsPlatform system() {
        System.loadLibrary("kernel32");
        System.loadLibrary("advapi32");
        return new WindowsPlatform(Linker.nativeLinker(), "GetLastError");
    }

    /**
     * A backend whose Win32 functions are found by the class loader's lookup (a library the caller
     * loaded with {@link System#load}) and whose error code is captured under {@code captureName}.
     * For the tests, which run this code on Linux over an emulation of kernel32 that reports through
     * {@code errno}.
     */
    public static WindowsPlatform over(Linker linker, String captureName) {
        return new WindowsPlatform(linker, captureName);
    }

    private WindowsPlatform(Linker linker, String captureName) {
        this.api = new Win32Api(linker, captureName);
        Win32Api.SystemInfo info = api.systemInfo();
        this.pageSize = info.pageSize();
        this.granularity = info.allocationGranularity();
    }

    // ------------------------------------------------------------------ handles

    /** A section or file handle, with what panmap needs to use it. */
    abstract static sealed class WinHandle extends CountedHandle permits Section, File {
        final Win32Api api;
        final MemorySegment handle;
        final String what;
        final boolean writable;

        WinHandle(Win32Api api, MemorySegment handle, String what, boolean writable) {
            this.api = api;
            this.handle = handle;
            this.what = what;
            this.writable = writable;
        }

        @Override
        public String description() {
            return what + " (handle " + WinFlags.hex(handle.address()) + ")";
        }
    }

    /** A page-file-backed section, and its writer-lock mutex once it has one. */
    static final class Section extends WinHandle {
        final String name;
        private MemorySegment mutex; // guarded by this
        private volatile Thread lockOwner;

        Section(Win32Api api, MemorySegment handle, String name, boolean writable) {
            super(api, handle, "section \"" + name + "\"", writable);
            this.name = name;
        }

        /** {@return the writer lock's mutex handle, NULL before the first lock of an opened section} (for tests) */
        synchronized MemorySegment mutex() {
            return mutex == null ? MemorySegment.NULL : mutex;
        }

        @Override
        protected void closeNative() {
            MemorySegment m;
            synchronized (this) {
                m = mutex;
                mutex = null;
            }
            try {
                if (m != null) {
                    if (lockOwner == Thread.currentThread()) {
                        api.releaseMutex(m, "mutex \"" + name + LOCK_SUFFIX + "\"");
                    }
                    api.closeHandle(m, "mutex \"" + name + LOCK_SUFFIX + "\"");
                }
            } finally {
                api.closeHandle(handle, what);
            }
        }
    }

    /** A file opened with CreateFileW. */
    static final class File extends WinHandle {
        File(Win32Api api, MemorySegment handle, String path, boolean writable) {
            super(api, handle, "file \"" + path + "\"", writable);
        }

        @Override
        protected void closeNative() {
            api.closeHandle(handle, what);
        }
    }

    // ------------------------------------------------------------------ identity and limits

    @Override
    public String name() {
        return "windows-x86_64";
    }

    @Override
    public long pageSize() {
        return pageSize;
    }

    /** {@return the allocation granularity (64 KiB): MapViewOfFileEx bases must be multiples of it} */
    @Override
    public long baseAlignment() {
        return granularity;
    }

    @Override
    public long defaultDirectBase() {
        return DEFAULT_DIRECT_BASE;
    }

    /**
     * Windows names: a leading {@code /} (the portable spelling) is dropped; {@code Local\} or
     * {@code Global\} may prefix the name, or {@code namespace} adds it; the rest must be non-empty
     * and hold no backslash or NUL, and the whole, with the lock's suffix, at most
     * {@value #MAX_NAME_CHARS} characters.
     */
    @Override
    public String canonicalName(String name, RegionOptions.Namespace namespace) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("invalid region name \"\": a name needs at least one character");
        }
        String bare = name.startsWith("/") ? name.substring(1) : name;
        String prefix = null;
        for (String p : new String[] {"Local\\", "Global\\"}) {
            if (bare.regionMatches(true, 0, p, 0, p.length())) {
                prefix = p;
                bare = bare.substring(p.length());
            }
        }
        String wanted = switch (namespace) {
            case DEFAULT -> null;
            case LOCAL -> "Local\\";
            case GLOBAL -> "Global\\";
        };
        String rule = null;
        if (prefix != null && wanted != null && !prefix.equals(wanted)) {
            rule = "it names the " + prefix + " namespace but the options ask for " + namespace;
        } else if (bare.isEmpty()) {
            rule = "a name needs at least one character after its prefix";
        } else if (bare.indexOf('\\') >= 0) {
            rule = "a backslash is allowed only after Local or Global";
        } else if (bare.indexOf('\0') >= 0) {
            rule = "a name cannot contain NUL";
        }
        String full = (prefix != null ? prefix : wanted != null ? wanted : "") + bare;
        if (rule == null && full.length() + LOCK_SUFFIX.length() > MAX_NAME_CHARS) {
            rule = "at most " + (MAX_NAME_CHARS - LOCK_SUFFIX.length()) + " characters with its prefix";
        }
        if (rule != null) {
            throw new IllegalArgumentException("invalid region name \"" + name + "\": " + rule);
        }
        return full;
    }

    // ------------------------------------------------------------------ objects

    private static final int SHARE_ALL = FILE_SHARE_READ() | FILE_SHARE_WRITE() | FILE_SHARE_DELETE();

    @Override
    public Handle create(Target target, long size, Creation creation) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attributes = creation.security() == RegionOptions.Security.SAME_USER
                ? api.securityAttributes(arena, sameUserSddl()) : MemorySegment.NULL;
            try {
                return target.file() ? createFile(target.name(), size, attributes) : createSection(target.name(), size, attributes);
            } finally {
                api.freeSecurityAttributes(attributes);
            }
        }
    }

    /** {@return {@code D:P(A;;GA;;;<this user's SID>)}: a protected DACL that admits only this user} */
    String sameUserSddl() {
        String sid = userSid;
        if (sid == null) {
            userSid = sid = api.currentUserSid();
        }
        return "D:P(A;;GA;;;" + sid + ")";
    }

    private Section createSection(String name, long size, MemorySegment attributes) {
        int protect = PAGE_READWRITE() | SEC_COMMIT();
        Win32Api.Opened made = api.createFileMapping(Win32Api.INVALID_HANDLE_VALUE, attributes, protect, size, name);
        String args = "INVALID_HANDLE_VALUE, " + (attributes.equals(MemorySegment.NULL) ? "NULL" : "{same user}") + ", "
            + WinFlags.protect(protect) + ", " + (size >>> 32) + ", " + (size & 0xFFFF_FFFFL) + ", " + WinFlags.string(name);
        if (made.failed()) {
            if (made.error() == ERROR_INVALID_HANDLE()) { // the name is another kind of object's
                throw new NativeException(ErrorKind.ALREADY_EXISTS, "CreateFileMappingW", args, made.error(), WinError.name(made.error()),
                    api.message(made.error()) + "; the name is taken by a kernel object that is not a section (a mutex, an event, ...)");
            }
            throw api.failure("CreateFileMappingW", args, made.error());
        }
        if (made.error() == ERROR_ALREADY_EXISTS()) { // a handle to the existing section: not ours to create
            api.closeHandle(made.handle(), "section \"" + name + "\"");
            throw api.failure("CreateFileMappingW", args, ERROR_ALREADY_EXISTS());
        }
        Section section = new Section(api, made.handle(), name, true);
        try {
            synchronized (section) {
                section.mutex = openMutex(name, attributes); // the lock object carries the region's security
            }
        } catch (RuntimeException e) {
            section.close();
            throw e;
        }
        return section;
    }

    private MemorySegment openMutex(String sectionName, MemorySegment attributes) {
        String lockName = sectionName + LOCK_SUFFIX;
        Win32Api.Opened mutex = api.createMutex(attributes, lockName);
        if (mutex.failed()) {
            throw api.failure("CreateMutexW", (attributes.equals(MemorySegment.NULL) ? "NULL" : "{same user}") + ", FALSE, "
                + WinFlags.string(lockName), mutex.error());
        }
        return mutex.handle();
    }

    private File createFile(String path, long size, MemorySegment attributes) {
        String nativePath = longPath(path);
        int access = GENERIC_READ() | GENERIC_WRITE();
        Win32Api.Opened made = api.createFile(nativePath, access, SHARE_ALL, attributes, CREATE_NEW());
        if (made.failed()) {
            throw createFileFailure(path, access, attributes, CREATE_NEW(), made.error());
        }
        File file = new File(api, made.handle(), path, true);
        try {
            api.setFileSize(file.handle, size, file.what);
        } catch (RuntimeException e) {
            file.close();
            try {
                api.deleteFile(nativePath);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return file;
    }

    @Override
    public Handle open(Target target, boolean writable) {
        if (target.file()) {
            int access = writable ? GENERIC_READ() | GENERIC_WRITE() : GENERIC_READ();
            Win32Api.Opened opened = api.createFile(longPath(target.name()), access, SHARE_ALL, MemorySegment.NULL, OPEN_EXISTING());
            if (opened.failed()) {
                throw createFileFailure(target.name(), access, MemorySegment.NULL, OPEN_EXISTING(), opened.error());
            }
            File file = new File(api, opened.handle(), target.name(), writable);
            int type = api.fileType(file.handle);
            if (type != FILE_TYPE_DISK()) {
                file.close();
                throw new RegionException(ErrorKind.INVALID_ARGUMENT, target.name() + " is not a disk file (GetFileType says "
                    + type + "): only a disk file or a section can hold a region");
            }
            return file;
        }
        // FILE_MAP_COPY (= SECTION_QUERY) lets a read-only handle make copy-on-write views too
        int access = writable ? FILE_MAP_READ() | FILE_MAP_WRITE() : FILE_MAP_READ() | FILE_MAP_COPY();
        Win32Api.Opened opened = api.openFileMapping(access, target.name());
        if (opened.failed()) {
            throw api.failure("OpenFileMappingW", WinFlags.viewAccess(access) + ", FALSE, " + WinFlags.string(target.name()), opened.error());
        }
        return new Section(api, opened.handle(), target.name(), writable);
    }

    /** {@return the failure of a {@code CreateFileW} call, its arguments written as in C} */
    private NativeException createFileFailure(String path, int access, MemorySegment attributes, int disposition, int error) {
        return api.failure("CreateFileW", WinFlags.string(path) + ", " + WinFlags.fileAccess(access) + ", " + WinFlags.share(SHARE_ALL)
            + ", " + (attributes.equals(MemorySegment.NULL) ? "NULL" : "{same user}") + ", " + WinFlags.disposition(disposition)
            + ", FILE_ATTRIBUTE_NORMAL, NULL", error);
    }

    /** Paths of {@code MAX_PATH} or more need the {@code \\?\} prefix (absolute paths only). */
    static String longPath(String path) {
        if (path.length() < 248 || path.startsWith("\\\\?\\")) {
            return path;
        }
        if (path.startsWith("\\\\")) {
            return "\\\\?\\UNC\\" + path.substring(2); // \\server\share\... -> \\?\UNC\server\share\...
        }
        return "\\\\?\\" + path.replace('/', '\\');
    }

    /**
     * A file's size from {@code GetFileSizeEx}; a section's from the region {@code VirtualQuery} reports
     * for a whole-section view (sizes are whole pages). Permissions and owner are not POSIX notions
     * here: 0 and -1.
     */
    @Override
    public Status status(Handle handle) {
        WinHandle h = (WinHandle) handle;
        h.acquire();
        try {
            if (h instanceof File) {
                return new Status(api.fileSize(h.handle, h.what), 0, -1, 1);
            }
            long view = api.mapViewOfFileEx(h.handle, FILE_MAP_READ(), 0, 0, 0, h.what);
            try {
                Win32Api.MemoryInfo info = api.virtualQuery(view);
                return new Status(info == null ? 0 : info.size(), 0, -1, 1);
            } finally {
                api.unmapViewOfFile(view);
            }
        } finally {
            h.release();
        }
    }

    /** A file's data and metadata reach the disk ({@code FlushFileBuffers}); NTFS journals the directory entry itself. */
    @Override
    public void makeDurable(Handle handle, Target target) {
        if (handle instanceof File file) {
            flushFileBuffers(file);
        }
    }

    private void flushFileBuffers(File file) {
        file.acquire();
        try {
            api.flushFileBuffers(file.handle, file.what);
        } finally {
            file.release();
        }
    }

    @Override
    public void close(Handle handle) {
        ((WinHandle) handle).close();
    }

    @Override
    public String remove(Target target) {
        if (target.file()) {
            api.deleteFile(longPath(target.name()));
            return "removed file \"" + target.name() + "\"; processes that have it open keep it until they close"
                + " (until then Windows may refuse a new file of that name)";
        }
        Win32Api.Opened probe = api.openFileMapping(FILE_MAP_READ(), target.name());
        if (probe.failed()) {
            throw api.failure("OpenFileMappingW", "FILE_MAP_READ, FALSE, " + WinFlags.string(target.name()), probe.error());
        }
        api.closeHandle(probe.handle(), "section \"" + target.name() + "\"");
        return "section \"" + target.name() + "\" is page-file backed and cannot be removed by name on Windows: "
            + "it vanishes when the last process that has it open closes it";
    }

    // ------------------------------------------------------------------ mappings

    /**
     * {@code span} is not kept: Windows cannot reserve address space beside a view without placeholders
     * ({@code VirtualAlloc2}), so regions do not grow in place here ({@link #mapMore}).
     */
    @Override
    public long map(Handle handle, long size, long span, Access access, long fixedAddress, boolean populate) {
        WinHandle h = (WinHandle) handle;
        int viewAccess = switch (access) {
            case READ_ONLY -> FILE_MAP_READ();
            case READ_WRITE -> FILE_MAP_READ() | FILE_MAP_WRITE();
            case COPY_ON_WRITE -> FILE_MAP_COPY();
        };
        h.acquire();
        try {
            synchronized (book) {
                if (fixedAddress != 0) {
                    AddressBook.Live occupant = book.liveOverlapping(fixedAddress, fixedAddress + size);
                    if (occupant != null) {
                        throw new NativeException(ErrorKind.ADDRESS_IN_USE, "MapViewOfFileEx", h.what + ", " + WinFlags.viewAccess(viewAccess)
                            + ", 0, 0, " + size + ", " + WinFlags.hex(fixedAddress), ERROR_INVALID_ADDRESS(), "ERROR_INVALID_ADDRESS",
                            api.message(ERROR_INVALID_ADDRESS()) + "; occupied by panmap's own DIRECT mapping of " + occupant.what() + " at "
                            + WinFlags.hex(occupant.start()) + "-" + WinFlags.hex(occupant.end()) + ", open in this process: close it first, or use another base");
                    }
                }
                long address;
                try {
                    address = mapView(h, access, viewAccess, size, fixedAddress);
                } catch (NativeException e) {
                    if (fixedAddress == 0 || e.kind() != ErrorKind.ADDRESS_IN_USE) {
                        throw e;
                    }
                    String there = describeAddressRange(fixedAddress, size);
                    throw new NativeException(ErrorKind.ADDRESS_IN_USE, e.function(), e.arguments(), e.errorCode(), e.errorName(),
                        e.errorMessage() + "; occupied by a mapping panmap did not make" + (there.isEmpty() ? "" : ": " + there));
                }
                book.addLive(address, address + size, h.what, fixedAddress == 0, h);
                views.put(address, new View(address + size, h));
                if (populate) {
                    try {
                        api.prefetch(MemorySegment.ofAddress(address).reinterpret(size));
                    } catch (NativeException ignored) {
                        // a hint, as MAP_POPULATE is on Linux
                    }
                }
                return address;
            }
        } finally {
            h.release();
        }
    }

    /** A view of a section, or of a file through a section made for this view alone (the view keeps it alive). */
    private long mapView(WinHandle h, Access access, int viewAccess, long size, long base) {
        if (h instanceof Section) {
            return api.mapViewOfFileEx(h.handle, viewAccess, 0, size, base, h.what);
        }
        int protect = switch (access) {
            case READ_ONLY -> PAGE_READONLY();
            case READ_WRITE -> PAGE_READWRITE();
            case COPY_ON_WRITE -> PAGE_WRITECOPY();
        };
        Win32Api.Opened section = api.createFileMapping(h.handle, MemorySegment.NULL, protect, 0, null);
        if (section.failed()) {
            throw api.failure("CreateFileMappingW", h.what + ", NULL, " + WinFlags.protect(protect) + ", 0, 0, NULL", section.error());
        }
        try {
            return api.mapViewOfFileEx(section.handle(), viewAccess, 0, size, base, h.what);
        } finally {
            api.closeHandle(section.handle(), "section of " + h.what);
        }
    }

    /** Growth in place is not offered on Windows: a page-file section's size is fixed when it is made. */
    @Override
    public void mapMore(Handle handle, long address, long mappedSize, long newSize, Access access) {
        throw new RegionException(ErrorKind.NOT_SUPPORTED, "growing a region in place is not offered on Windows: a page-file"
            + " section's size is fixed when it is created, and a view cannot be extended without placeholders (VirtualAlloc2)");
    }

    /** See {@link #mapMore}. */
    @Override
    public void extend(Handle handle, long oldSize, long newSize, boolean reserve) {
        mapMore(handle, 0, oldSize, newSize, Access.READ_WRITE);
    }

    /**
     * A file: deleted by name, which is ours while {@code handle} is open (a deleted file's name stays
     * taken until its last handle closes, so nobody can have made another file under it); a section:
     * nothing to do, it vanishes with its last handle.
     */
    @Override
    public boolean removeIfSame(Target target, Handle handle) {
        if (!target.file()) {
            return false;
        }
        remove(target);
        return true;
    }

    /** Nothing: Windows refuses to shrink a file that has a view ({@code ERROR_USER_MAPPED_FILE}), so it cannot happen. */
    @Override
    public void coverTruncated(Handle handle, long address, long size) {
        // unreachable on Windows
    }

    @Override
    public long mapTransient(Handle handle, long size) {
        WinHandle h = (WinHandle) handle;
        h.acquire();
        try {
            return mapView(h, Access.READ_ONLY, FILE_MAP_READ(), size, 0);
        } finally {
            h.release();
        }
    }

    /** {@code UnmapViewOfFile}: the range is given back at once (see the class comment on the close guarantee). */
    @Override
    public void unmap(long address, long size) {
        synchronized (book) {
            book.removeLive(address);
            views.remove(address);
            api.unmapViewOfFile(address);
        }
    }

    /**
     * {@code FlushViewOfFile} starts the write of the dirty pages; with {@code sync}, a file region's
     * {@code FlushFileBuffers} waits until they (and the file's metadata) are on the disk. A page-file
     * section has no disk to reach.
     */
    @Override
    public void flush(MemorySegment range, boolean sync) {
        api.flushViewOfFile(range);
        if (!sync) {
            return;
        }
        Handle owner;
        synchronized (book) {
            Map.Entry<Long, View> view = views.floorEntry(range.address());
            owner = view != null && range.address() < view.getValue().end() ? view.getValue().handle() : null;
        }
        if (owner instanceof File file) {
            flushFileBuffers(file);
        }
    }

    /**
     * WILL_NEED: {@code PrefetchVirtualMemory}. DONT_NEED: {@code VirtualUnlock} of an unlocked range,
     * which takes its pages out of the working set (the data stays). NORMAL, SEQUENTIAL, RANDOM: Windows
     * has no per-range hint for mapped views; nothing is done.
     */
    @Override
    public void advise(MemorySegment range, Advice advice) {
        switch (advice) {
            case WILL_NEED -> api.prefetch(range);
            case DONT_NEED -> api.virtualUnlock(range, true);
            default -> { }
        }
    }

    @Override
    public void lockMemory(MemorySegment range) {
        api.virtualLock(range);
    }

    @Override
    public void unlockMemory(MemorySegment range) {
        api.virtualUnlock(range, false);
    }

    /** What {@code VirtualQuery} says of each region in the range: {@code 0x...-0x... MEM_COMMIT MEM_MAPPED (allocation 0x...)}. */
    @Override
    public String describeAddressRange(long address, long size) {
        StringBuilder out = new StringBuilder();
        long at = address;
        long end = address + size;
        while (Long.compareUnsigned(at, end) < 0) {
            Win32Api.MemoryInfo info = api.virtualQuery(at);
            if (info == null || info.size() <= 0) {
                break;
            }
            if (info.state() != MEM_FREE()) {
                if (!out.isEmpty()) {
                    out.append(" | ");
                }
                out.append(WinFlags.hex(info.base())).append('-').append(WinFlags.hex(info.base() + info.size())).append(' ')
                    .append(WinFlags.memory(info.state(), info.type())).append(" (allocation ").append(WinFlags.hex(info.allocationBase()))
                    .append(')');
            }
            at = info.base() + info.size();
        }
        return out.toString();
    }

    // ------------------------------------------------------------------ the writer lock

    @Override
    public boolean tryLockWriter(Handle handle) {
        WinHandle h = (WinHandle) handle;
        h.acquire();
        try {
            if (h instanceof File) {
                return api.tryLockByte(h.handle, WRITER_LOCK_BYTE, h.what);
            }
            Section section = (Section) h;
            MemorySegment mutex;
            synchronized (section) {
                if (section.mutex == null) {
                    section.mutex = openMutex(section.name, MemorySegment.NULL);
                }
                mutex = section.mutex;
            }
            int r = api.waitForSingleObject(mutex, 0, "mutex \"" + section.name + LOCK_SUFFIX + "\"");
            if (r == WAIT_TIMEOUT()) {
                return false;
            }
            // WAIT_OBJECT_0, or WAIT_ABANDONED: its holder died holding it, and it is ours now; the
            // holder record in the header tells WriterLock whether to count a stale recovery
            section.lockOwner = Thread.currentThread();
            return true;
        } finally {
            h.release();
        }
    }

    @Override
    public void unlockWriter(Handle handle) {
        WinHandle h = (WinHandle) handle;
        h.acquire();
        try {
            if (h instanceof File) {
                api.unlockByte(h.handle, WRITER_LOCK_BYTE, h.what);
                return;
            }
            Section section = (Section) h;
            MemorySegment mutex;
            synchronized (section) {
                mutex = section.mutex;
            }
            section.lockOwner = null;
            api.releaseMutex(mutex, "mutex \"" + section.name + LOCK_SUFFIX + "\"");
        } finally {
            h.release();
        }
    }

    // ------------------------------------------------------------------ liveness

    /** Not the kernel's here: processes are judged by pid and creation time (Windows has no pid namespaces). */
    @Override
    public boolean kernelLiveness(Handle handle) {
        return false;
    }

    @Override
    public boolean tryLockByte(Handle handle, long offset) {
        return true; // no byte locks for liveness here: kernelLiveness() is false
    }

    @Override
    public void unlockByte(Handle handle, long offset) {
        // no byte locks for liveness here
    }

    @Override
    public boolean lockedElsewhere(Handle handle, long offset) {
        throw new UnsupportedOperationException("no lock test on Windows: kernelLiveness() is false");
    }

    // ------------------------------------------------------------------ processes

    @Override
    public int currentPid() {
        return api.currentProcessId();
    }

    /** Alive: it opens and its handle is not signalled; or it exists but is not ours to open (access denied). */
    @Override
    public boolean processExists(int pid) {
        if (pid <= 0) {
            return false;
        }
        Win32Api.Opened process = api.openProcess(PROCESS_QUERY_LIMITED_INFORMATION() | SYNCHRONIZE(), pid);
        if (process.failed()) {
            return process.error() == ERROR_ACCESS_DENIED();
        }
        try {
            return api.waitForSingleObject(process.handle(), 0, "process " + pid) == WAIT_TIMEOUT();
        } finally {
            api.closeHandle(process.handle(), "process " + pid);
        }
    }

    /** The creation time in milliseconds since 1601, or -1 if the process has gone (or cannot be opened). */
    @Override
    public long processStartTime(int pid) {
        if (pid <= 0) {
            return -1;
        }
        Win32Api.Opened process = api.openProcess(PROCESS_QUERY_LIMITED_INFORMATION() | SYNCHRONIZE(), pid);
        if (process.failed()) {
            return -1;
        }
        try {
            if (api.waitForSingleObject(process.handle(), 0, "process " + pid) != WAIT_TIMEOUT()) {
                return -1; // exited; its object lives on only while someone holds a handle
            }
            return api.creationTime(process.handle(), pid) / FILETIME_PER_MILLI;
        } finally {
            api.closeHandle(process.handle(), "process " + pid);
        }
    }
}
