package dev.panmap.internal.windows;

import static dev.panmap.internal.generated.windows.Win32.*;

import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.internal.AddressBook;
import dev.panmap.internal.CountedHandle;
import dev.panmap.internal.Platform;
import dev.panmap.internal.generated.windows.SECURITY_ATTRIBUTES;
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
 *       at once: Windows has no call that replaces a view by another mapping in one step (placeholders
 *       leave a no-access window between the unmap and the next map), so {@link #unmap} does not keep
 *       the range readable ({@link #closeKeepsRangeReadable()} is false) and the structures read through
 *       the region's scoped segment on Windows instead: a racing reader gets an
 *       {@link IllegalStateException} from the closed arena, never an access violation.
 *       <b>Growth</b>: a section that may grow is made {@code SEC_RESERVE} at its full span; every view
 *       maps the span and commits ({@code VirtualAlloc(MEM_COMMIT)}) only the current size, and growth
 *       commits more in place. File regions do not grow here.</li>
 *   <li><b>Locks and liveness</b> (the writer lock, the attach slots, and any byte lock the region code
 *       asks for, {@link #tryLockByte}): on a file, {@code LockFileEx} of that byte (beyond any real size,
 *       as on Linux); on a page-file section, which has no bytes to lock, a named mutex per byte
 *       ({@code <section>#panmap-lock-<offset in hex>}). A mutex belongs to a <em>thread</em>, so all of
 *       one section handle's mutexes are waited on and released by one dedicated thread
 *       ({@link OwnerThread}): ownership follows the handle, as an OFD lock follows its descriptor on
 *       Linux (a lock held through handle A makes {@code tryLock} through handle B fail, in one process
 *       too; any thread, virtual or not, may release it; closing the handle releases it). The system
 *       releases both kinds when the process dies ({@code WAIT_ABANDONED} for the mutex), so
 *       {@link #kernelLiveness} is true: no process is judged by pid or {@code OpenProcess}, which
 *       another user's process refuses. Lock objects carry the section's own security (a copy of its
 *       DACL, or the creator's); the writer-lock mutex lives as long as any handle of the section (every
 *       open keeps it), and one that exists when its section is created was made by someone else: the
 *       create is refused rather than adopting it.</li>
 *   <li><b>Waiting on a word</b> ({@link #waitOnAddress}): two named semaphores per word, keyed to the
 *       section (a file: its volume and file index, in {@code Global\}) and the word's offset.</li>
 *   <li><b>Processes</b>: {@code GetCurrentProcessId}; alive = {@code OpenProcess} +
 *       {@code WaitForSingleObject(h, 0) == WAIT_TIMEOUT}, or access denied (it exists); start time =
 *       the creation time from {@code GetProcessTimes}, in milliseconds since 1601.</li>
 *   <li><b>Errors</b>: {@code GetLastError}, captured by the downcall ({@link Win32Api}), mapped to the
 *       same {@link ErrorKind}s as POSIX, with {@code FormatMessageW}'s text.</li>
 * </ul>
 */
public final class WindowsPlatform implements Platform {

    /** Default base of DIRECT regions, as on Linux ({@code PosixPlatform.DEFAULT_DIRECT_BASE}): far from where Windows places images, heaps and stacks. */
    public static final long DEFAULT_DIRECT_BASE = 0x6000_8000_0000L;

    /** The longest name CreateMutexW/CreateFileMappingW are documented to take (MAX_PATH), with the lock's suffix. */
    static final int MAX_NAME_CHARS = 260;

    /** The most characters panmap adds to a section's name for its lock and wait objects (see {@link #lockName}, {@link #wakeName}). */
    static final int SUFFIX_BUDGET = 30;

    /** A byte lock's mutex: the section's full name, this, and the byte's offset in hex. */
    static final String LOCK_SUFFIX = "#panmap-lock-";

    /** A word's semaphores: the key, this, the word's offset in hex and {@code s} (sleepers) or {@code n} (their number). */
    static final String WAKE_SUFFIX = "#panmap-wake-";

    /** Semaphores count up to this. */
    private static final int SEMAPHORE_MAX = Integer.MAX_VALUE;

    private static final java.lang.invoke.VarHandle INT = java.lang.foreign.ValueLayout.JAVA_INT.varHandle();

    /** The byte the file writer lock locks: beyond any real size, as on Linux. */
    private static final long WRITER_LOCK_BYTE = dev.panmap.internal.RegionLayout.WRITER_LOCK_BYTE;

    /** FILETIME ticks (100 ns) per millisecond. */
    private static final long FILETIME_PER_MILLI = 10_000;

    private final Win32Api api;
    private final long pageSize;
    private final long granularity;

    /** Live views of this process: for messages, so flush() finds a view's file and a wait its section. Guarded by {@code book}. */
    private final AddressBook book = new AddressBook();
    private final TreeMap<Long, View> views = new TreeMap<>();

    private record View(long end, WinHandle handle) {}

    /** Ranges locked into RAM by {@link #lockMemory}, start to end, and what the working set was raised for them. Guarded by itself. */
    private final TreeMap<Long, long[]> lockedRanges = new TreeMap<>();

    private volatile String userSid;

    /**
     * The backend on Windows, capturing {@code GetLastError}. The generated bindings open
     * {@code kernel32.dll} and {@code advapi32.dll} by name ({@code SymbolLookup.libraryLookup}, that is
     * {@code LoadLibrary}: both are KnownDLLs, so always the system's own copies, never a file found on
     * {@code java.library.path} or in the working directory), only when this backend is selected.
     */
    public static WindowsPlatform system() {
        return new WindowsPlatform(Linker.nativeLinker(), "GetLastError");
    }

    /**
     * A backend whose error code is captured under {@code captureName}. For the tests, which run this
     * code on Linux over an emulation of kernel32 that reports through {@code errno} (loaded under the
     * names the generated lookup opens, {@code libkernel32.so} and {@code libadvapi32.so}).
     */
    public static WindowsPlatform over(Linker linker, String captureName) {
        return new WindowsPlatform(linker, captureName);
    }

    /** {@return the Win32 calls this backend makes} (for tests) */
    Win32Api api() {
        return api;
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
        /** The semaphores of the words waited on through this handle, by offset. Guarded by itself. */
        private final Map<Long, Wake> wakes = new java.util.HashMap<>();

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

        /** {@return the name the wait objects of this object start with} */
        abstract String objectKey();

        /** The security the lock and wait objects of this object get when this handle creates them (NULL: the default). */
        abstract MemorySegment lockSecurity(Arena arena);

        /** Closes the wait objects, then the rest. */
        final void closeWakes() {
            synchronized (wakes) {
                for (Wake w : wakes.values()) {
                    api.closeHandle(w.sleepers(), "semaphore of " + what);
                    api.closeHandle(w.count(), "semaphore of " + what);
                }
                wakes.clear();
            }
        }
    }

    /** A word's semaphores: the sleepers wait on one, and count themselves in the other. */
    private record Wake(MemorySegment sleepers, MemorySegment count) {}

    /** A page-file-backed section, its writer-lock mutex, and the byte-lock mutexes this handle holds. */
    static final class Section extends WinHandle {
        final String name;
        /** The security descriptor lock objects get (system-allocated, freed at close), or NULL for the default. */
        private final MemorySegment descriptor;
        /** The writer lock's mutex, kept open so that it lives as long as the section; NULL until made. Guarded by this. */
        private MemorySegment writerMutex = MemorySegment.NULL;
        /** The mutexes this handle holds, by byte offset. Used on the owner thread only. */
        private final Map<Long, MemorySegment> held = new java.util.HashMap<>();
        private OwnerThread owner; // guarded by this
        /** The section's size (a section's size never changes), -1 until measured. */
        private volatile long size = -1;

        Section(Win32Api api, MemorySegment handle, String name, boolean writable, MemorySegment descriptor) {
            super(api, handle, "section \"" + name + "\"", writable);
            this.name = name;
            this.descriptor = descriptor;
        }

        @Override
        String objectKey() {
            return name;
        }

        @Override
        MemorySegment lockSecurity(Arena arena) {
            return descriptor.equals(MemorySegment.NULL) ? MemorySegment.NULL : api.attributesFor(arena, descriptor);
        }

        /** {@return the writer lock's mutex handle, NULL if none is open} (for tests) */
        synchronized MemorySegment mutex() {
            return writerMutex;
        }

        /** {@return the thread that owns this handle's mutexes} (started on first use) */
        synchronized OwnerThread owner() {
            if (owner == null) {
                owner = new OwnerThread(name);
            }
            return owner;
        }

        @Override
        protected void closeNative() {
            OwnerThread o;
            synchronized (this) {
                o = owner;
                owner = null;
            }
            try {
                if (o != null) {
                    o.run(() -> { // a mutex is released by the thread that owns it
                        for (Map.Entry<Long, MemorySegment> e : held.entrySet()) {
                            api.releaseMutex(e.getValue(), "mutex \"" + lockName(name, e.getKey()) + "\"");
                            if (!e.getValue().equals(writerMutex)) {
                                api.closeHandle(e.getValue(), "mutex \"" + lockName(name, e.getKey()) + "\"");
                            }
                        }
                        held.clear();
                        return null;
                    });
                    o.shutdown();
                }
                closeWakes();
                MemorySegment m;
                synchronized (this) {
                    m = writerMutex;
                    writerMutex = MemorySegment.NULL;
                }
                if (!m.equals(MemorySegment.NULL)) {
                    api.closeHandle(m, "mutex \"" + lockName(name, WRITER_LOCK_BYTE) + "\"");
                }
            } finally {
                try {
                    api.closeHandle(handle, what);
                } finally {
                    api.freeLocal(descriptor);
                }
            }
        }
    }

    /** A file opened with CreateFileW, and the bytes it has locked. */
    static final class File extends WinHandle {
        /** Byte offsets this handle has locked with LockFileEx. Guarded by itself. */
        private final java.util.Set<Long> locked = new java.util.HashSet<>();
        private volatile String key;

        File(Win32Api api, MemorySegment handle, String path, boolean writable) {
            super(api, handle, "file \"" + path + "\"", writable);
        }

        /** {@code Global\panmap-file-<volume serial>-<file index>}: the same for every path and process that opens the file. */
        @Override
        String objectKey() {
            String k = key;
            if (k == null) {
                key = k = "Global\\panmap-file-" + api.fileId(handle, what);
            }
            return k;
        }

        @Override
        MemorySegment lockSecurity(Arena arena) {
            return MemorySegment.NULL; // the file's own ACL guards the file; the wait objects get the default
        }

        @Override
        protected void closeNative() {
            try {
                closeWakes();
            } finally {
                api.closeHandle(handle, what); // releases its LockFileEx locks too
            }
        }
    }

    /** {@return the name of the mutex that stands for byte {@code offset} of section {@code section}} */
    static String lockName(String section, long offset) {
        return section + LOCK_SUFFIX + Long.toHexString(offset);
    }

    /** {@return the name of a word's semaphore: {@code kind} {@code 's'} for the sleepers, {@code 'n'} for their number} */
    static String wakeName(String key, long offset, char kind) {
        return key + WAKE_SUFFIX + Long.toHexString(offset) + kind;
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
     * and hold no backslash or NUL, and the whole, with the longest suffix of its lock and wait objects
     * ({@value #SUFFIX_BUDGET}), at most {@value #MAX_NAME_CHARS} characters.
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
        if (rule == null && full.length() + SUFFIX_BUDGET > MAX_NAME_CHARS) {
            rule = "at most " + (MAX_NAME_CHARS - SUFFIX_BUDGET) + " characters with its prefix";
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
            MemorySegment descriptor = attributes.equals(MemorySegment.NULL) ? MemorySegment.NULL : SECURITY_ATTRIBUTES.lpSecurityDescriptor(attributes);
            if (target.file()) {
                try {
                    return createFile(target.name(), size, attributes);
                } finally {
                    api.freeLocal(descriptor);
                }
            }
            return createSection(target.name(), size, Math.max(size, creation.span()), attributes, descriptor);
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

    /**
     * A new section: {@code SEC_COMMIT} of {@code size}, or, when it may grow ({@code span > size}),
     * {@code SEC_RESERVE} of {@code span}, whose pages are committed as the region uses them (views
     * commit what they map, growth commits more). Then its writer-lock mutex, with the same security,
     * which must not exist yet. Takes over {@code descriptor} (freed with the section, or here on failure).
     */
    private Section createSection(String name, long size, long span, MemorySegment attributes, MemorySegment descriptor) {
        boolean reserve = span > size;
        long sectionSize = reserve ? span : size;
        int protect = PAGE_READWRITE() | (reserve ? SEC_RESERVE() : SEC_COMMIT());
        Win32Api.Opened made = api.createFileMapping(Win32Api.INVALID_HANDLE_VALUE, attributes, protect, sectionSize, name);
        String args = "INVALID_HANDLE_VALUE, " + (attributes.equals(MemorySegment.NULL) ? "NULL" : "{same user}") + ", "
            + WinFlags.protect(protect) + ", " + (sectionSize >>> 32) + ", " + (sectionSize & 0xFFFF_FFFFL) + ", " + WinFlags.string(name);
        if (made.failed()) {
            api.freeLocal(descriptor);
            if (made.error() == ERROR_INVALID_HANDLE()) { // the name is another kind of object's
                throw new NativeException(ErrorKind.ALREADY_EXISTS, "CreateFileMappingW", args, made.error(), WinError.name(made.error()),
                    api.message(made.error()) + "; the name is taken by a kernel object that is not a section (a mutex, an event, ...)");
            }
            throw api.failure("CreateFileMappingW", args, made.error());
        }
        if (made.error() == ERROR_ALREADY_EXISTS()) { // a handle to the existing section: not ours to create
            api.freeLocal(descriptor);
            api.closeHandle(made.handle(), "section \"" + name + "\"");
            throw api.failure("CreateFileMappingW", args, ERROR_ALREADY_EXISTS());
        }
        Section section = new Section(api, made.handle(), name, true, descriptor);
        section.size = sectionSize;
        try {
            String lockName = lockName(name, WRITER_LOCK_BYTE);
            Win32Api.Opened mutex = api.createMutex(attributes, lockName);
            String mutexArgs = (attributes.equals(MemorySegment.NULL) ? "NULL" : "{same user}") + ", FALSE, " + WinFlags.string(lockName);
            if (mutex.failed()) {
                throw api.failure("CreateMutexW", mutexArgs, mutex.error());
            }
            synchronized (section) {
                section.writerMutex = mutex.handle();
            }
            if (mutex.error() == ERROR_ALREADY_EXISTS()) {
                // the section is new, and every process that has it open keeps this mutex open: so someone
                // else made it, before the section existed, with a security of its own choosing
                throw new NativeException(ErrorKind.PERMISSION_DENIED, "CreateMutexW", mutexArgs, ERROR_ALREADY_EXISTS(),
                    "ERROR_ALREADY_EXISTS", "the writer lock's mutex existed before its section: another process made it (name"
                    + " squatting?), and panmap does not adopt a lock object it did not make; choose another name, or find"
                    + " the process that holds " + WinFlags.string(lockName));
            }
        } catch (RuntimeException e) {
            section.close();
            throw e;
        }
        return section;
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
        // FILE_MAP_COPY (= SECTION_QUERY) lets a read-only handle make copy-on-write views too; READ_CONTROL
        // lets it read the section's DACL for the lock objects it makes (asked for, not required)
        int access = writable ? FILE_MAP_READ() | FILE_MAP_WRITE() : FILE_MAP_READ() | FILE_MAP_COPY();
        Win32Api.Opened opened = api.openFileMapping(access | READ_CONTROL(), target.name());
        boolean readControl = !opened.failed();
        if (!readControl && opened.error() == ERROR_ACCESS_DENIED()) {
            opened = api.openFileMapping(access, target.name());
        }
        if (opened.failed()) {
            throw api.failure("OpenFileMappingW", WinFlags.viewAccess(access) + ", FALSE, " + WinFlags.string(target.name()), opened.error());
        }
        MemorySegment descriptor = MemorySegment.NULL;
        if (readControl) {
            try {
                descriptor = api.daclOf(opened.handle(), "section \"" + target.name() + "\"");
            } catch (NativeException e) {
                // the default security, then: no worse than before, and the lock still works
            }
        }
        Section section = new Section(api, opened.handle(), target.name(), writable, descriptor);
        // keep the writer lock's mutex alive while this handle lives (made at the first lock if it is gone)
        Win32Api.Opened mutex = api.openMutex(SYNCHRONIZE() | MUTEX_MODIFY_STATE(), lockName(target.name(), WRITER_LOCK_BYTE));
        if (!mutex.failed()) {
            synchronized (section) {
                section.writerMutex = mutex.handle();
            }
        }
        return section;
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
     * A file's size from {@code GetFileSizeEx}; a section's, which never changes, measured once per
     * handle (the creator knows it; an opener maps the section once and adds up what
     * {@code VirtualQuery} reports of the view, reserved pages included) and then remembered. Permissions
     * and owner are not POSIX notions here: 0 and -1.
     */
    @Override
    public Status status(Handle handle) {
        WinHandle h = (WinHandle) handle;
        h.acquire();
        try {
            if (h instanceof File) {
                return new Status(api.fileSize(h.handle, h.what), 0, -1, 1);
            }
            Section section = (Section) h;
            long size = section.size;
            if (size < 0) {
                long view = api.mapViewOfFileEx(h.handle, FILE_MAP_READ(), 0, 0, 0, h.what);
                try {
                    size = viewSize(view);
                } finally {
                    api.unmapViewOfFile(view);
                }
                section.size = size;
            }
            return new Status(size, 0, -1, 1);
        } finally {
            h.release();
        }
    }

    /** {@return the size of the view at {@code view}: its regions, committed or reserved, that belong to its allocation} */
    private long viewSize(long view) {
        long at = view;
        while (true) {
            Win32Api.MemoryInfo info = api.virtualQuery(at);
            if (info == null || info.size() <= 0 || info.allocationBase() != view || info.state() == MEM_FREE()) {
                return at - view;
            }
            at = info.base() + info.size();
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
            if (probe.error() == ERROR_FILE_NOT_FOUND()) {
                // the portable close-then-remove must not fail here: the section went with its last handle
                return "section \"" + target.name() + "\" does not exist: a page-file section vanishes when the last process"
                    + " that has it open closes it, so there is nothing to remove";
            }
            throw api.failure("OpenFileMappingW", "FILE_MAP_READ, FALSE, " + WinFlags.string(target.name()), probe.error());
        }
        api.closeHandle(probe.handle(), "section \"" + target.name() + "\"");
        return "section \"" + target.name() + "\" is page-file backed and cannot be removed by name on Windows: "
            + "it vanishes when the last process that has it open closes it";
    }

    // ------------------------------------------------------------------ mappings

    /**
     * A section's view covers {@code span} (a section that may grow is that large, reserved; never more
     * than the section) and commits {@code size} of it; a file's view covers {@code size} only (file
     * regions do not grow here).
     */
    @Override
    public long map(Handle handle, long size, long span, Access access, long fixedAddress, boolean populate) {
        WinHandle h = (WinHandle) handle;
        int viewAccess = switch (access) {
            case READ_ONLY -> FILE_MAP_READ();
            case READ_WRITE -> FILE_MAP_READ() | FILE_MAP_WRITE();
            case COPY_ON_WRITE -> FILE_MAP_COPY();
        };
        // a section's view covers the span, but never more than the section (a span a header claims
        // beyond it would fail the whole map; growth past the view is LIMIT_REACHED in mapMore instead)
        long viewSize = h instanceof Section ? Math.max(size, Math.min(span, status(h).size())) : size;
        h.acquire();
        try {
            synchronized (book) {
                if (fixedAddress != 0) {
                    AddressBook.Live occupant = book.liveOverlapping(fixedAddress, fixedAddress + viewSize);
                    if (occupant != null) {
                        throw new NativeException(ErrorKind.ADDRESS_IN_USE, "MapViewOfFileEx", h.what + ", " + WinFlags.viewAccess(viewAccess)
                            + ", 0, 0, " + viewSize + ", " + WinFlags.hex(fixedAddress), ERROR_INVALID_ADDRESS(), "ERROR_INVALID_ADDRESS",
                            api.message(ERROR_INVALID_ADDRESS()) + "; occupied by panmap's own DIRECT mapping of " + occupant.what() + " at "
                            + WinFlags.hex(occupant.start()) + "-" + WinFlags.hex(occupant.end()) + ", open in this process: close it first, or use another base");
                    }
                }
                long address;
                try {
                    address = mapView(h, access, viewAccess, viewSize, fixedAddress);
                } catch (NativeException e) {
                    if (fixedAddress == 0 || e.kind() != ErrorKind.ADDRESS_IN_USE) {
                        throw e;
                    }
                    String there = describeAddressRange(fixedAddress, viewSize);
                    throw new NativeException(ErrorKind.ADDRESS_IN_USE, e.function(), e.arguments(), e.errorCode(), e.errorName(),
                        e.errorMessage() + "; occupied by a mapping panmap did not make" + (there.isEmpty() ? "" : ": " + there));
                }
                try {
                    if (h instanceof Section) {
                        ensureCommitted(address, size, access, h.what);
                    }
                } catch (RuntimeException e) {
                    api.unmapViewOfFile(address);
                    throw e;
                }
                book.addLive(address, address + viewSize, h.what, fixedAddress == 0, h);
                views.put(address, new View(address + viewSize, h));
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
        int protect = pageProtection(access);
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

    private static int pageProtection(Access access) {
        return switch (access) {
            case READ_ONLY -> PAGE_READONLY();
            case READ_WRITE -> PAGE_READWRITE();
            case COPY_ON_WRITE -> PAGE_WRITECOPY();
        };
    }

    /**
     * Commits {@code [address, address+size)} of a section's view unless {@code VirtualQuery} says it is
     * committed already: a {@code SEC_RESERVE} section's pages are reserved until a view commits them
     * (each view commits what it uses; a {@code SEC_COMMIT} section is committed whole).
     */
    private void ensureCommitted(long address, long size, Access access, String what) {
        if (size <= 0) {
            return;
        }
        Win32Api.MemoryInfo info = api.virtualQuery(address);
        if (info != null && info.state() == MEM_COMMIT() && info.base() + info.size() >= address + size) {
            return;
        }
        api.commit(address, size, pageProtection(access), what);
    }

    /**
     * Growth in place: a section's view already covers the span (reserved), and the new part is committed
     * in it. A file's view does not (Windows cannot keep address space beside a file view without
     * placeholders): {@code NOT_SUPPORTED}.
     */
    @Override
    public void mapMore(Handle handle, long address, long mappedSize, long newSize, Access access) {
        WinHandle h = (WinHandle) handle;
        if (h instanceof File) {
            throw fileGrowth(h);
        }
        h.acquire();
        try {
            synchronized (book) { // an unmap takes the book too: the view cannot go while it is committed into
                View view = views.get(address);
                if (view == null || view.handle() != h) { // unmapped by a close: the range may hold another region now
                    throw new IllegalStateException(h.what + " is no longer mapped at " + WinFlags.hex(address) + " (closed)");
                }
                if (address + newSize > view.end()) {
                    throw new RegionException(ErrorKind.LIMIT_REACHED, "cannot map " + newSize + " bytes of " + h.what + " at "
                        + WinFlags.hex(address) + ": its view covers " + (view.end() - address) + " (the span kept when it was mapped)");
                }
                ensureCommitted(address + mappedSize, newSize - mappedSize, access, h.what);
            }
        } finally {
            h.release();
        }
    }

    /** A section is as large as its span from the start (reserved): nothing to do within it. Files do not grow here. */
    @Override
    public void extend(Handle handle, long oldSize, long newSize, boolean reserve) {
        WinHandle h = (WinHandle) handle;
        if (h instanceof File) {
            throw fileGrowth(h);
        }
        long size = status(h).size();
        if (newSize > size) {
            throw new RegionException(ErrorKind.LIMIT_REACHED, h.what + " is " + size + " bytes and a section's size is fixed when it is"
                + " made: it cannot hold " + newSize + " (create the region with a larger maxSize)");
        }
    }

    private static RegionException fileGrowth(WinHandle h) {
        return new RegionException(ErrorKind.NOT_SUPPORTED, "growing a file region in place is not offered on Windows (" + h.what
            + "): a view of a file cannot be extended, and address space beside it cannot be kept without placeholders"
            + " (VirtualAlloc2); a named (page-file) region grows");
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
            long view = mapView(h, Access.READ_ONLY, FILE_MAP_READ(), size, 0);
            if (h instanceof Section) {
                try {
                    ensureCommitted(view, size, Access.READ_ONLY, h.what); // a SEC_RESERVE section its creator has not committed yet
                } catch (RuntimeException e) {
                    api.unmapViewOfFile(view);
                    throw e;
                }
            }
            return view;
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

    /** {@return false}: {@link #unmap} gives the range back at once, so a reader racing with a close would fault. */
    @Override
    public boolean closeKeepsRangeReadable() {
        return false;
    }

    /** How many times a flush is tried while other writers hold the pages ({@code ERROR_LOCK_VIOLATION}). */
    static final int FLUSH_ATTEMPTS = 8;

    /**
     * {@code FlushViewOfFile} starts the write of the dirty pages, tried again (up to
     * {@value #FLUSH_ATTEMPTS} times, pausing 1, 2, 4, ... ms) while it fails with
     * {@code ERROR_LOCK_VIOLATION}, which it does when other views are writing the same pages; with
     * {@code sync}, a file region's {@code FlushFileBuffers} waits until they (and the file's metadata)
     * are on the disk. That needs a writable handle: a region opened read-only starts the write only
     * (whoever wrote the pages can wait for them). A page-file section has no disk to reach.
     */
    @Override
    public void flush(MemorySegment range, boolean sync) {
        for (int attempt = 1; ; attempt++) {
            try {
                api.flushViewOfFile(range);
                break;
            } catch (NativeException e) {
                if (e.errorCode() != ERROR_LOCK_VIOLATION() || attempt >= FLUSH_ATTEMPTS) {
                    throw e;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L << (attempt - 1));
            }
        }
        if (!sync) {
            return;
        }
        WinHandle owner;
        synchronized (book) {
            Map.Entry<Long, View> view = views.floorEntry(range.address());
            owner = view != null && range.address() < view.getValue().end() ? view.getValue().handle() : null;
        }
        if (owner instanceof File file && file.writable) {
            flushFileBuffers(file);
        }
    }

    /**
     * WILL_NEED: {@code PrefetchVirtualMemory}. DONT_NEED: {@code VirtualUnlock} of an unlocked range,
     * which takes its pages out of the working set (the data stays); nothing on a range
     * {@link #lockMemory} locked, which that call would unlock. NORMAL, SEQUENTIAL, RANDOM: Windows has
     * no per-range hint for mapped views; nothing is done.
     */
    @Override
    public void advise(MemorySegment range, Advice advice) {
        switch (advice) {
            case WILL_NEED -> api.prefetch(range);
            case DONT_NEED -> {
                if (!overlapsLocked(range.address(), range.address() + range.byteSize())) {
                    api.virtualUnlock(range, true);
                }
            }
            default -> { }
        }
    }

    private boolean overlapsLocked(long start, long end) {
        synchronized (lockedRanges) {
            Map.Entry<Long, long[]> before = lockedRanges.lowerEntry(end);
            return before != null && before.getValue()[0] > start;
        }
    }

    /**
     * {@code VirtualLock}. Windows lets a process lock no more than its minimum working set (about
     * 200 KiB by default), so when the lock fails with {@code ERROR_WORKING_SET_QUOTA} the working set is
     * raised by the range's size ({@code SetProcessWorkingSetSizeEx}, soft limits) and the lock tried
     * again; {@link #unlockMemory} lowers it by as much.
     */
    @Override
    public void lockMemory(MemorySegment range) {
        long start = range.address();
        long end = start + range.byteSize();
        synchronized (lockedRanges) {
            long raised = 0;
            try {
                api.virtualLock(range);
            } catch (NativeException e) {
                if (e.errorCode() != ERROR_WORKING_SET_QUOTA()) {
                    throw e;
                }
                long[] ws = api.workingSetSize();
                raised = range.byteSize() + 16 * pageSize; // the range, and room for the pages the lock's own bookkeeping takes
                try {
                    api.setWorkingSetSize(ws[0] + raised, Math.max(ws[1], ws[0] + raised) + raised);
                } catch (NativeException f) {
                    f.addSuppressed(e);
                    throw f;
                }
                try {
                    api.virtualLock(range);
                } catch (NativeException f) {
                    api.setWorkingSetSize(ws[0], ws[1]);
                    throw f;
                }
            }
            lockedRanges.put(start, new long[] {end, raised});
        }
    }

    @Override
    public void unlockMemory(MemorySegment range) {
        synchronized (lockedRanges) {
            api.virtualUnlock(range, false);
            long[] locked = lockedRanges.remove(range.address());
            if (locked != null && locked[1] > 0) {
                long[] ws = api.workingSetSize();
                api.setWorkingSetSize(Math.max(0, ws[0] - locked[1]), Math.max(ws[0] - locked[1], ws[1] - locked[1]));
            }
        }
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

    // ------------------------------------------------------------------ the writer lock and byte locks

    @Override
    public boolean tryLockWriter(Handle handle) {
        return tryLockByte(handle, WRITER_LOCK_BYTE);
    }

    @Override
    public void unlockWriter(Handle handle) {
        unlockByte(handle, WRITER_LOCK_BYTE);
    }

    /** Where a byte lock is a mutex, its owner thread; where it is {@code LockFileEx}, the file handle: the system keeps liveness either way. */
    @Override
    public boolean kernelLiveness(Handle handle) {
        return true;
    }

    /**
     * A file: {@code LockFileEx} of the byte, exclusive, not waiting. A section: its mutex for that byte,
     * made (with the section's security) or opened, and waited on for 0 ms by the handle's owner thread;
     * {@code WAIT_ABANDONED} (its holder died) takes it too. A byte this handle holds already is not
     * taken again ({@code false}).
     */
    @Override
    public boolean tryLockByte(Handle handle, long offset) {
        WinHandle h = (WinHandle) handle;
        h.acquire();
        try {
            if (h instanceof File file) {
                synchronized (file.locked) {
                    if (file.locked.contains(offset)) {
                        return false;
                    }
                    boolean got = api.tryLockByte(file.handle, offset, file.what, true);
                    if (got) {
                        file.locked.add(offset);
                    }
                    return got;
                }
            }
            Section section = (Section) h;
            return section.owner().run(() -> acquireMutex(section, offset));
        } finally {
            h.release();
        }
    }

    /** On the section's owner thread. */
    private boolean acquireMutex(Section section, long offset) {
        if (section.held.containsKey(offset)) {
            return false;
        }
        String name = lockName(section.name, offset);
        MemorySegment mutex = MemorySegment.NULL;
        boolean kept = false;
        if (offset == WRITER_LOCK_BYTE) {
            synchronized (section) {
                mutex = section.writerMutex;
            }
            kept = !mutex.equals(MemorySegment.NULL);
        }
        if (!kept) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment attributes = section.lockSecurity(arena);
                Win32Api.Opened made = api.createMutex(attributes, name);
                if (made.failed()) {
                    throw api.failure("CreateMutexW", (attributes.equals(MemorySegment.NULL) ? "NULL" : "{the section's DACL}") + ", FALSE, "
                        + WinFlags.string(name), made.error());
                }
                mutex = made.handle();
            }
            if (offset == WRITER_LOCK_BYTE) {
                synchronized (section) {
                    section.writerMutex = mutex;
                }
                kept = true;
            }
        }
        int r;
        try {
            r = api.waitForSingleObject(mutex, 0, "mutex \"" + name + "\"");
        } catch (RuntimeException e) {
            if (!kept) {
                api.closeHandle(mutex, "mutex \"" + name + "\"");
            }
            throw e;
        }
        if (r == WAIT_TIMEOUT()) {
            if (!kept) {
                api.closeHandle(mutex, "mutex \"" + name + "\"");
            }
            return false;
        }
        // WAIT_OBJECT_0, or WAIT_ABANDONED: its holder died holding it, and it is ours now; the region's
        // own records (the writer lock's holder word, a slot's stamp) say what the dead holder left
        section.held.put(offset, mutex);
        return true;
    }

    @Override
    public void unlockByte(Handle handle, long offset) {
        WinHandle h = (WinHandle) handle;
        h.acquire();
        try {
            if (h instanceof File file) {
                synchronized (file.locked) {
                    api.unlockByte(file.handle, offset, file.what);
                    file.locked.remove(offset);
                }
                return;
            }
            Section section = (Section) h;
            section.owner().run(() -> {
                MemorySegment mutex = section.held.remove(offset);
                String name = lockName(section.name, offset);
                if (mutex == null) {
                    throw new IllegalStateException("mutex \"" + name + "\" is not held through " + section.what);
                }
                try {
                    api.releaseMutex(mutex, "mutex \"" + name + "\"");
                } finally {
                    boolean kept;
                    synchronized (section) {
                        kept = mutex.equals(section.writerMutex);
                    }
                    if (!kept) {
                        api.closeHandle(mutex, "mutex \"" + name + "\"");
                    }
                }
                return null;
            });
        } finally {
            h.release();
        }
    }

    /**
     * A file: a lock of the byte tried and at once undone (exclusive where the handle may write, so that
     * shared locks count too; shared otherwise). A section: its mutex opened ({@code OpenMutexW}; none
     * means nobody holds it) and waited on for 0 ms by the owner thread, released at once if that got it;
     * a mutex this process may not open is taken as held. This handle's own locks are never "elsewhere".
     */
    @Override
    public boolean lockedElsewhere(Handle handle, long offset) {
        WinHandle h = (WinHandle) handle;
        h.acquire();
        try {
            if (h instanceof File file) {
                synchronized (file.locked) {
                    if (file.locked.contains(offset)) {
                        return false;
                    }
                    if (!api.tryLockByte(file.handle, offset, file.what, file.writable)) {
                        return true;
                    }
                    api.unlockByte(file.handle, offset, file.what);
                    return false;
                }
            }
            Section section = (Section) h;
            return section.owner().run(() -> probeMutex(section, offset));
        } finally {
            h.release();
        }
    }

    /** On the section's owner thread. */
    private boolean probeMutex(Section section, long offset) {
        if (section.held.containsKey(offset)) {
            return false;
        }
        String name = lockName(section.name, offset);
        MemorySegment kept;
        synchronized (section) {
            kept = offset == WRITER_LOCK_BYTE ? section.writerMutex : MemorySegment.NULL;
        }
        MemorySegment mutex = kept;
        if (kept.equals(MemorySegment.NULL)) {
            Win32Api.Opened opened = api.openMutex(SYNCHRONIZE() | MUTEX_MODIFY_STATE(), name);
            if (opened.failed()) {
                if (opened.error() == ERROR_FILE_NOT_FOUND()) {
                    return false; // no one has it open, so no one holds it
                }
                if (opened.error() == ERROR_ACCESS_DENIED()) {
                    return true; // someone made it, and we may not look: count it as held
                }
                throw api.failure("OpenMutexW", "SYNCHRONIZE|MUTEX_MODIFY_STATE, FALSE, " + WinFlags.string(name), opened.error());
            }
            mutex = opened.handle();
        }
        try {
            int r = api.waitForSingleObject(mutex, 0, "mutex \"" + name + "\"");
            if (r == WAIT_TIMEOUT()) {
                return true;
            }
            api.releaseMutex(mutex, "mutex \"" + name + "\"");
            return false;
        } finally {
            if (kept.equals(MemorySegment.NULL)) {
                api.closeHandle(mutex, "mutex \"" + name + "\"");
            }
        }
    }

    // ------------------------------------------------------------------ waiting on a shared word

    /**
     * Counts itself in the word's count semaphore, reads the word, and sleeps on the sleepers'
     * semaphore unless the word changed (see {@link Platform#waitOnAddress}); both semaphores are made
     * on first use, with the region's security.
     */
    @Override
    public boolean waitOnAddress(MemorySegment word, int expected, long timeoutNanos) {
        Located at = locate(word);
        WinHandle h = at.handle();
        h.acquire();
        try {
            Wake wake = wake(h, at.offset(), true);
            String what = "semaphore " + WinFlags.string(wakeName(h.objectKey(), at.offset(), 's'));
            api.releaseSemaphore(wake.count(), 1, what); // counted before the word is read: a waker that changes the word after sees us
            try {
                if ((int) INT.getVolatile(word, 0L) != expected) {
                    return true;
                }
                long millis = timeoutNanos < 0 ? Integer.toUnsignedLong(INFINITE_WAIT)
                    : Math.min(Integer.toUnsignedLong(INFINITE_WAIT) - 1, (timeoutNanos + 999_999) / 1_000_000);
                return api.waitForSingleObject(wake.sleepers(), (int) millis, what) != WAIT_TIMEOUT();
            } finally {
                api.waitForSingleObject(wake.count(), 0, what); // and uncounted
            }
        } finally {
            h.release();
        }
    }

    /** Reads how many sleep on the word (the count semaphore, by a release of 1 and a wait of 0) and lets that many, at most {@code count}, go. */
    @Override
    public int wakeAddress(MemorySegment word, int count) {
        Located at = locate(word);
        WinHandle h = at.handle();
        h.acquire();
        try {
            Wake wake = wake(h, at.offset(), false);
            if (wake == null || count <= 0) {
                return 0; // no one ever waited on this word
            }
            String what = "semaphore " + WinFlags.string(wakeName(h.objectKey(), at.offset(), 'n'));
            int sleeping = api.releaseSemaphore(wake.count(), 1, what);
            api.waitForSingleObject(wake.count(), 0, what);
            if (sleeping == 0) {
                return 0;
            }
            int n = sleeping < 0 ? count : Math.min(count, sleeping);
            api.releaseSemaphore(wake.sleepers(), n, what); // -1 (at its maximum already) wakes them all anyway
            return n;
        } finally {
            h.release();
        }
    }

    private static final int INFINITE_WAIT = 0xFFFF_FFFF;

    /** A word's view and its offset in the object (a view maps the object from its start). */
    private record Located(WinHandle handle, long offset) {}

    private Located locate(MemorySegment word) {
        long address = word.address();
        if ((address & 3) != 0 || word.byteSize() < 4) {
            throw new IllegalArgumentException("a word to wait on is 4 aligned bytes: " + WinFlags.hex(address) + ", " + word.byteSize() + " bytes");
        }
        synchronized (book) {
            Map.Entry<Long, View> view = views.floorEntry(address);
            if (view == null || address + 4 > view.getValue().end()) {
                throw new IllegalArgumentException(WinFlags.hex(address) + " is not in a region mapped by this process: only a word of a"
                    + " region can be waited on across processes");
            }
            return new Located(view.getValue().handle(), address - view.getKey());
        }
    }

    /** {@return the word's semaphores, made if {@code create}, else opened; null if they do not exist} */
    private Wake wake(WinHandle h, long offset, boolean create) {
        synchronized (h.wakes) {
            Wake w = h.wakes.get(offset);
            if (w != null) {
                return w;
            }
            String key = h.objectKey();
            MemorySegment sleepers = semaphore(h, wakeName(key, offset, 's'), create);
            if (sleepers == null) {
                return null;
            }
            MemorySegment counter;
            try {
                counter = semaphore(h, wakeName(key, offset, 'n'), true); // the sleepers' exists, so a waiter is making this one
            } catch (RuntimeException e) {
                api.closeHandle(sleepers, "semaphore of " + h.what);
                throw e;
            }
            w = new Wake(sleepers, counter);
            h.wakes.put(offset, w);
            return w;
        }
    }

    private MemorySegment semaphore(WinHandle h, String name, boolean create) {
        if (!create) {
            Win32Api.Opened opened = api.openSemaphore(SYNCHRONIZE() | SEMAPHORE_MODIFY_STATE(), name);
            if (opened.failed()) {
                if (opened.error() == ERROR_FILE_NOT_FOUND()) {
                    return null;
                }
                throw api.failure("OpenSemaphoreW", "SYNCHRONIZE|SEMAPHORE_MODIFY_STATE, FALSE, " + WinFlags.string(name), opened.error());
            }
            return opened.handle();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attributes = h.lockSecurity(arena);
            Win32Api.Opened made = api.createSemaphore(attributes, SEMAPHORE_MAX, name);
            if (made.failed()) {
                throw api.failure("CreateSemaphoreW", (attributes.equals(MemorySegment.NULL) ? "NULL" : "{the section's DACL}") + ", 0, "
                    + SEMAPHORE_MAX + ", " + WinFlags.string(name), made.error());
            }
            return made.handle();
        }
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
