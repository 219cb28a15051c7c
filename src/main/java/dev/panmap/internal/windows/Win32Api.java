package dev.panmap.internal.windows;

import static dev.panmap.internal.generated.windows.Win32.*;

import dev.panmap.NativeException;
import dev.panmap.internal.generated.windows.BY_HANDLE_FILE_INFORMATION;
import dev.panmap.internal.generated.windows.FILETIME;
import dev.panmap.internal.generated.windows.MEMORY_BASIC_INFORMATION;
import dev.panmap.internal.generated.windows.OVERLAPPED;
import dev.panmap.internal.generated.windows.SECURITY_ATTRIBUTES;
import dev.panmap.internal.generated.windows.SID_AND_ATTRIBUTES;
import dev.panmap.internal.generated.windows.SYSTEM_INFO;
import dev.panmap.internal.generated.windows.WIN32_MEMORY_RANGE_ENTRY;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * The Win32 calls panmap makes, on top of the jextract bindings in
 * {@code dev.panmap.internal.generated.windows}: each downcall handle is built once from the
 * generated address and descriptor plus {@code captureCallState}, so the error code is the one the
 * call left, never one read later, and every failure becomes a {@link NativeException} that names the
 * call, its arguments and {@code FormatMessageW}'s text.
 *
 * <p>The capture-state name is given: {@code "GetLastError"} on Windows; the tests run this class on
 * Linux over an emulation library that reports its Win32 codes through {@code "errno"}.
 *
 * <p>Handles are {@link MemorySegment}s of size 0 ({@code HANDLE} is a pointer); addresses of views
 * are {@code long}s, owned by the region.
 */
final class Win32Api {
    /** {@code INVALID_HANDLE_VALUE}, {@code (HANDLE)-1}. */
    static final MemorySegment INVALID_HANDLE_VALUE = MemorySegment.ofAddress(-1L);
    private static final int TRUE = 1;
    private static final int ERROR_INSUFFICIENT_BUFFER = 122;

    private final StructLayout captureLayout = Linker.Option.captureStateLayout();
    private final VarHandle lastError;
    private final Linker linker;
    private final Linker.Option capture;

    // one handle per function, built once
    private final MethodHandle createFileMapping;
    private final MethodHandle openFileMapping;
    private final MethodHandle mapViewOfFileEx;
    private final MethodHandle unmapViewOfFile;
    private final MethodHandle flushViewOfFile;
    private final MethodHandle closeHandle;
    private final MethodHandle createFile;
    private final MethodHandle deleteFile;
    private final MethodHandle getFileSizeEx;
    private final MethodHandle setFilePointerEx;
    private final MethodHandle setEndOfFile;
    private final MethodHandle getFileType;
    private final MethodHandle flushFileBuffers;
    private final MethodHandle lockFileEx;
    private final MethodHandle unlockFileEx;
    private final MethodHandle createMutex;
    private final MethodHandle openMutex;
    private final MethodHandle waitForSingleObject;
    private final MethodHandle releaseMutex;
    private final MethodHandle createSemaphore;
    private final MethodHandle openSemaphore;
    private final MethodHandle releaseSemaphore;
    private final MethodHandle getFileInformationByHandle;
    private final MethodHandle virtualAlloc;
    private final MethodHandle getProcessWorkingSetSizeEx;
    private final MethodHandle setProcessWorkingSetSizeEx;
    private final MethodHandle getSecurityInfo;
    private final MethodHandle getSystemInfo;
    private final MethodHandle virtualQuery;
    private final MethodHandle virtualLock;
    private final MethodHandle virtualUnlock;
    private final MethodHandle prefetchVirtualMemory;
    private final MethodHandle getCurrentProcess;
    private final MethodHandle getCurrentProcessId;
    private final MethodHandle openProcess;
    private final MethodHandle getProcessTimes;
    private final MethodHandle formatMessage;
    private final MethodHandle localFree;
    private final MethodHandle openProcessToken;
    private final MethodHandle getTokenInformation;
    private final MethodHandle convertSidToStringSid;
    private final MethodHandle convertStringSecurityDescriptor;

    /** Per-thread native scratch: the capture area and one {@code OVERLAPPED} for the lock calls. */
    private final ThreadLocal<Scratch> scratch;

    private final class Scratch {
        final MemorySegment state;
        final MemorySegment overlapped;

        Scratch() {
            Arena arena = Arena.ofAuto();
            state = arena.allocate(captureLayout);
            overlapped = arena.allocate(OVERLAPPED.layout());
        }
    }

    /**
     * @param linker      the linker that reaches the functions (the native one)
     * @param captureName {@code "GetLastError"} on Windows; {@code "errno"} over the test emulation
     */
    Win32Api(Linker linker, String captureName) {
        this.linker = linker;
        this.capture = Linker.Option.captureCallState(captureName);
        this.lastError = captureLayout.varHandle(MemoryLayout.PathElement.groupElement(captureName));
        this.scratch = ThreadLocal.withInitial(Scratch::new);
        createFileMapping = capturing(CreateFileMappingW$address(), CreateFileMappingW$descriptor());
        openFileMapping = capturing(OpenFileMappingW$address(), OpenFileMappingW$descriptor());
        mapViewOfFileEx = capturing(MapViewOfFileEx$address(), MapViewOfFileEx$descriptor());
        unmapViewOfFile = capturing(UnmapViewOfFile$address(), UnmapViewOfFile$descriptor());
        flushViewOfFile = capturing(FlushViewOfFile$address(), FlushViewOfFile$descriptor());
        closeHandle = capturing(CloseHandle$address(), CloseHandle$descriptor());
        createFile = capturing(CreateFileW$address(), CreateFileW$descriptor());
        deleteFile = capturing(DeleteFileW$address(), DeleteFileW$descriptor());
        getFileSizeEx = capturing(GetFileSizeEx$address(), GetFileSizeEx$descriptor());
        setFilePointerEx = capturing(SetFilePointerEx$address(), SetFilePointerEx$descriptor());
        setEndOfFile = capturing(SetEndOfFile$address(), SetEndOfFile$descriptor());
        getFileType = capturing(GetFileType$address(), GetFileType$descriptor());
        flushFileBuffers = capturing(FlushFileBuffers$address(), FlushFileBuffers$descriptor());
        lockFileEx = capturing(LockFileEx$address(), LockFileEx$descriptor());
        unlockFileEx = capturing(UnlockFileEx$address(), UnlockFileEx$descriptor());
        createMutex = capturing(CreateMutexW$address(), CreateMutexW$descriptor());
        openMutex = capturing(OpenMutexW$address(), OpenMutexW$descriptor());
        waitForSingleObject = capturing(WaitForSingleObject$address(), WaitForSingleObject$descriptor());
        releaseMutex = capturing(ReleaseMutex$address(), ReleaseMutex$descriptor());
        createSemaphore = capturing(CreateSemaphoreW$address(), CreateSemaphoreW$descriptor());
        openSemaphore = capturing(OpenSemaphoreW$address(), OpenSemaphoreW$descriptor());
        releaseSemaphore = capturing(ReleaseSemaphore$address(), ReleaseSemaphore$descriptor());
        getFileInformationByHandle = capturing(GetFileInformationByHandle$address(), GetFileInformationByHandle$descriptor());
        virtualAlloc = capturing(VirtualAlloc$address(), VirtualAlloc$descriptor());
        getProcessWorkingSetSizeEx = capturing(GetProcessWorkingSetSizeEx$address(), GetProcessWorkingSetSizeEx$descriptor());
        setProcessWorkingSetSizeEx = capturing(SetProcessWorkingSetSizeEx$address(), SetProcessWorkingSetSizeEx$descriptor());
        getSecurityInfo = linker.downcallHandle(GetSecurityInfo$address(), GetSecurityInfo$descriptor()); // returns its error
        getSystemInfo = linker.downcallHandle(GetSystemInfo$address(), GetSystemInfo$descriptor());
        virtualQuery = capturing(VirtualQuery$address(), VirtualQuery$descriptor());
        virtualLock = capturing(VirtualLock$address(), VirtualLock$descriptor());
        virtualUnlock = capturing(VirtualUnlock$address(), VirtualUnlock$descriptor());
        prefetchVirtualMemory = capturing(PrefetchVirtualMemory$address(), PrefetchVirtualMemory$descriptor());
        getCurrentProcess = linker.downcallHandle(GetCurrentProcess$address(), GetCurrentProcess$descriptor());
        getCurrentProcessId = linker.downcallHandle(GetCurrentProcessId$address(), GetCurrentProcessId$descriptor());
        openProcess = capturing(OpenProcess$address(), OpenProcess$descriptor());
        getProcessTimes = capturing(GetProcessTimes$address(), GetProcessTimes$descriptor());
        formatMessage = linker.downcallHandle(FormatMessageW$address(), FormatMessageW$descriptor());
        localFree = linker.downcallHandle(LocalFree$address(), LocalFree$descriptor());
        openProcessToken = capturing(OpenProcessToken$address(), OpenProcessToken$descriptor());
        getTokenInformation = capturing(GetTokenInformation$address(), GetTokenInformation$descriptor());
        convertSidToStringSid = capturing(ConvertSidToStringSidW$address(), ConvertSidToStringSidW$descriptor());
        convertStringSecurityDescriptor = capturing(ConvertStringSecurityDescriptorToSecurityDescriptorW$address(),
            ConvertStringSecurityDescriptorToSecurityDescriptorW$descriptor());
    }

    private MethodHandle capturing(MemorySegment address, FunctionDescriptor descriptor) {
        return linker.downcallHandle(address, descriptor, capture);
    }

    private int lastError(Scratch s) {
        return (int) lastError.get(s.state, 0L);
    }

    // ---------------------------------------------------------------- results

    /** A handle and the error code the call left (for calls whose success can carry a code). */
    record Opened(MemorySegment handle, int error) {
        boolean failed() {
            return handle.equals(MemorySegment.NULL) || handle.address() == -1L;
        }
    }

    // ---------------------------------------------------------------- sections and views

    /**
     * {@code CreateFileMappingW}. Returns the handle and the code left by the call: on success,
     * {@code ERROR_ALREADY_EXISTS} says the name existed and the handle is to that object.
     */
    Opened createFileMapping(MemorySegment file, MemorySegment attributes, int protect, long size, String name) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment wideName = name == null ? MemorySegment.NULL : wide(arena, name);
            MemorySegment h = (MemorySegment) createFileMapping.invokeExact(s.state, file, attributes, protect,
                (int) (size >>> 32), (int) size, wideName);
            return new Opened(h, lastError(s));
        } catch (Throwable t) {
            throw unexpected("CreateFileMappingW", t);
        }
    }

    /** {@code OpenFileMappingW}; the handle is NULL on failure, with the code. */
    Opened openFileMapping(int access, String name) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = (MemorySegment) openFileMapping.invokeExact(s.state, access, 0, wide(arena, name));
            return new Opened(h, lastError(s));
        } catch (Throwable t) {
            throw unexpected("OpenFileMappingW", t);
        }
    }

    /** {@code MapViewOfFileEx}; returns the view's address, or throws. */
    long mapViewOfFileEx(MemorySegment section, int access, long offset, long size, long base, String what) {
        Scratch s = scratch.get();
        MemorySegment view;
        try {
            view = (MemorySegment) mapViewOfFileEx.invokeExact(s.state, section, access, (int) (offset >>> 32), (int) offset,
                size, MemorySegment.ofAddress(base));
        } catch (Throwable t) {
            throw unexpected("MapViewOfFileEx", t);
        }
        if (view.equals(MemorySegment.NULL)) {
            throw failure("MapViewOfFileEx", what + ", " + WinFlags.viewAccess(access) + ", " + (offset >>> 32) + ", "
                + (offset & 0xFFFF_FFFFL) + ", " + size + ", " + (base == 0 ? "NULL" : WinFlags.hex(base)), lastError(s));
        }
        if (base != 0 && view.address() != base) { // cannot happen on Windows: the base is exact or the call fails
            unmapViewOfFile(view.address());
            throw new IllegalStateException("MapViewOfFileEx returned " + WinFlags.hex(view.address()) + " for base " + WinFlags.hex(base));
        }
        return view.address();
    }

    /** {@code UnmapViewOfFile}. */
    void unmapViewOfFile(long address) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) unmapViewOfFile.invokeExact(s.state, MemorySegment.ofAddress(address));
        } catch (Throwable t) {
            throw unexpected("UnmapViewOfFile", t);
        }
        check(ok, "UnmapViewOfFile", WinFlags.hex(address), s);
    }

    /** {@code FlushViewOfFile}: starts writing the dirty pages of the range to the file. */
    void flushViewOfFile(MemorySegment range) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) flushViewOfFile.invokeExact(s.state, range, range.byteSize());
        } catch (Throwable t) {
            throw unexpected("FlushViewOfFile", t);
        }
        check(ok, "FlushViewOfFile", WinFlags.hex(range.address()) + ", " + range.byteSize(), s);
    }

    /** {@code CloseHandle}. */
    void closeHandle(MemorySegment handle, String what) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) closeHandle.invokeExact(s.state, handle);
        } catch (Throwable t) {
            throw unexpected("CloseHandle", t);
        }
        check(ok, "CloseHandle", what, s);
    }

    // ---------------------------------------------------------------- files

    /** {@code CreateFileW}; the handle is INVALID_HANDLE_VALUE on failure, with the code. */
    Opened createFile(String path, int access, int share, MemorySegment attributes, int disposition) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = (MemorySegment) createFile.invokeExact(s.state, wide(arena, path), access, share, attributes,
                disposition, FILE_ATTRIBUTE_NORMAL(), MemorySegment.NULL);
            return new Opened(h, lastError(s));
        } catch (Throwable t) {
            throw unexpected("CreateFileW", t);
        }
    }

    /** {@code DeleteFileW}. */
    void deleteFile(String path) {
        Scratch s = scratch.get();
        int ok;
        try (Arena arena = Arena.ofConfined()) {
            ok = (int) deleteFile.invokeExact(s.state, wide(arena, path));
        } catch (Throwable t) {
            throw unexpected("DeleteFileW", t);
        }
        check(ok, "DeleteFileW", WinFlags.string(path), s);
    }

    /** {@code GetFileSizeEx}. */
    long fileSize(MemorySegment file, String what) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
            int ok = (int) getFileSizeEx.invokeExact(s.state, file, size);
            check(ok, "GetFileSizeEx", what, s);
            return size.get(ValueLayout.JAVA_LONG, 0);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("GetFileSizeEx", t);
        }
    }

    /**
     * Sets a file's size: {@code SetFilePointerEx} to it, then {@code SetEndOfFile}. Files are not
     * sparse by default, so the clusters are allocated here and a full disk fails here.
     */
    void setFileSize(MemorySegment file, long size, String what) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) setFilePointerEx.invokeExact(s.state, file, size, MemorySegment.NULL, FILE_BEGIN());
        } catch (Throwable t) {
            throw unexpected("SetFilePointerEx", t);
        }
        check(ok, "SetFilePointerEx", what + ", " + size + ", NULL, FILE_BEGIN", s);
        try {
            ok = (int) setEndOfFile.invokeExact(s.state, file);
        } catch (Throwable t) {
            throw unexpected("SetEndOfFile", t);
        }
        check(ok, "SetEndOfFile", what + " (at " + size + ")", s);
    }

    /** {@code GetFileType}: {@code FILE_TYPE_DISK} for a file on a disk. */
    int fileType(MemorySegment file) {
        Scratch s = scratch.get();
        try {
            return (int) getFileType.invokeExact(s.state, file);
        } catch (Throwable t) {
            throw unexpected("GetFileType", t);
        }
    }

    /** {@code FlushFileBuffers}: the file's data and metadata reach the disk. */
    void flushFileBuffers(MemorySegment file, String what) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) flushFileBuffers.invokeExact(s.state, file);
        } catch (Throwable t) {
            throw unexpected("FlushFileBuffers", t);
        }
        check(ok, "FlushFileBuffers", what, s);
    }

    /** {@return a file's identity whatever path named it: its volume serial number and 64-bit file index, as {@code VVVVVVVV-IIIIIIIIIIIIIIII}} */
    String fileId(MemorySegment file, String what) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(BY_HANDLE_FILE_INFORMATION.layout());
            int ok = (int) getFileInformationByHandle.invokeExact(s.state, file, info);
            check(ok, "GetFileInformationByHandle", what, s);
            long index = Integer.toUnsignedLong(BY_HANDLE_FILE_INFORMATION.nFileIndexHigh(info)) << 32
                | Integer.toUnsignedLong(BY_HANDLE_FILE_INFORMATION.nFileIndexLow(info));
            return String.format("%08x-%016x", BY_HANDLE_FILE_INFORMATION.dwVolumeSerialNumber(info), index);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("GetFileInformationByHandle", t);
        }
    }

    /**
     * {@code LockFileEx(file, [LOCKFILE_EXCLUSIVE_LOCK |] LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, {offset})}:
     * one byte, never waiting.
     *
     * @return {@code false} if another handle holds a lock on that byte (that conflicts)
     */
    boolean tryLockByte(MemorySegment file, long offset, String what, boolean exclusive) {
        Scratch s = scratch.get();
        MemorySegment ov = overlapped(s, offset);
        int flags = (exclusive ? LOCKFILE_EXCLUSIVE_LOCK() : 0) | LOCKFILE_FAIL_IMMEDIATELY();
        int ok;
        try {
            ok = (int) lockFileEx.invokeExact(s.state, file, flags, 0, 1, 0, ov);
        } catch (Throwable t) {
            throw unexpected("LockFileEx", t);
        }
        if (ok == TRUE) {
            return true;
        }
        int error = lastError(s);
        if (error == ERROR_LOCK_VIOLATION()) {
            return false;
        }
        throw failure("LockFileEx", what + (exclusive ? ", LOCKFILE_EXCLUSIVE_LOCK|" : ", ") + "LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, {Offset "
            + offset + "}", error);
    }

    /** {@code UnlockFileEx} of the byte {@link #tryLockByte} locked. */
    void unlockByte(MemorySegment file, long offset, String what) {
        Scratch s = scratch.get();
        MemorySegment ov = overlapped(s, offset);
        int ok;
        try {
            ok = (int) unlockFileEx.invokeExact(s.state, file, 0, 1, 0, ov);
        } catch (Throwable t) {
            throw unexpected("UnlockFileEx", t);
        }
        check(ok, "UnlockFileEx", what + ", 0, 1, 0, {Offset " + offset + "}", s);
    }

    private static MemorySegment overlapped(Scratch s, long offset) {
        MemorySegment ov = s.overlapped;
        ov.fill((byte) 0);
        OVERLAPPED.Offset(ov, (int) offset);
        OVERLAPPED.OffsetHigh(ov, (int) (offset >>> 32));
        return ov;
    }

    // ---------------------------------------------------------------- the named mutex

    /** {@code CreateMutexW(attributes, FALSE, name)}: creates or opens; NULL on failure, with the code. */
    Opened createMutex(MemorySegment attributes, String name) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = (MemorySegment) createMutex.invokeExact(s.state, attributes, 0, wide(arena, name));
            return new Opened(h, lastError(s));
        } catch (Throwable t) {
            throw unexpected("CreateMutexW", t);
        }
    }

    /** {@code WaitForSingleObject}; returns WAIT_OBJECT_0, WAIT_ABANDONED or WAIT_TIMEOUT, or throws on WAIT_FAILED. */
    int waitForSingleObject(MemorySegment handle, int millis, String what) {
        Scratch s = scratch.get();
        int r;
        try {
            r = (int) waitForSingleObject.invokeExact(s.state, handle, millis);
        } catch (Throwable t) {
            throw unexpected("WaitForSingleObject", t);
        }
        if (r == WAIT_FAILED()) {
            throw failure("WaitForSingleObject", what + ", " + Integer.toUnsignedString(millis), lastError(s));
        }
        return r;
    }

    /** {@code ReleaseMutex}. */
    void releaseMutex(MemorySegment mutex, String what) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) releaseMutex.invokeExact(s.state, mutex);
        } catch (Throwable t) {
            throw unexpected("ReleaseMutex", t);
        }
        check(ok, "ReleaseMutex", what, s);
    }

    /** {@code OpenMutexW(access, FALSE, name)}: NULL on failure, with the code (ERROR_FILE_NOT_FOUND: no such mutex). */
    Opened openMutex(int access, String name) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = (MemorySegment) openMutex.invokeExact(s.state, access, 0, wide(arena, name));
            return new Opened(h, lastError(s));
        } catch (Throwable t) {
            throw unexpected("OpenMutexW", t);
        }
    }

    /** {@code CreateSemaphoreW(attributes, 0, maximum, name)}: creates or opens; NULL on failure, with the code. */
    Opened createSemaphore(MemorySegment attributes, int maximum, String name) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = (MemorySegment) createSemaphore.invokeExact(s.state, attributes, 0, maximum, wide(arena, name));
            return new Opened(h, lastError(s));
        } catch (Throwable t) {
            throw unexpected("CreateSemaphoreW", t);
        }
    }

    /** {@code OpenSemaphoreW(access, FALSE, name)}: NULL on failure, with the code. */
    Opened openSemaphore(int access, String name) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = (MemorySegment) openSemaphore.invokeExact(s.state, access, 0, wide(arena, name));
            return new Opened(h, lastError(s));
        } catch (Throwable t) {
            throw unexpected("OpenSemaphoreW", t);
        }
    }

    /**
     * {@code ReleaseSemaphore(semaphore, count, &previous)}.
     *
     * @return the count before the release, or -1 if the release would pass the maximum ({@code ERROR_TOO_MANY_POSTS})
     */
    int releaseSemaphore(MemorySegment semaphore, int count, String what) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment previous = arena.allocate(ValueLayout.JAVA_INT);
            int ok = (int) releaseSemaphore.invokeExact(s.state, semaphore, count, previous);
            if (ok == TRUE) {
                return previous.get(ValueLayout.JAVA_INT, 0);
            }
            int error = lastError(s);
            if (error == ERROR_TOO_MANY_POSTS()) {
                return -1;
            }
            throw failure("ReleaseSemaphore", what + ", " + count, error);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("ReleaseSemaphore", t);
        }
    }

    // ---------------------------------------------------------------- memory

    /** What panmap reads of {@code SYSTEM_INFO}. */
    record SystemInfo(long pageSize, long allocationGranularity) {}

    SystemInfo systemInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(SYSTEM_INFO.layout());
            getSystemInfo.invokeExact(info);
            return new SystemInfo(Integer.toUnsignedLong(SYSTEM_INFO.dwPageSize(info)),
                Integer.toUnsignedLong(SYSTEM_INFO.dwAllocationGranularity(info)));
        } catch (Throwable t) {
            throw unexpected("GetSystemInfo", t);
        }
    }

    /** What panmap reads of {@code MEMORY_BASIC_INFORMATION}. */
    record MemoryInfo(long base, long allocationBase, long size, int state, int protect, int type) {}

    /** {@code VirtualQuery}; null for an address beyond user space (the call returns 0). */
    MemoryInfo virtualQuery(long address) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mbi = arena.allocate(MEMORY_BASIC_INFORMATION.layout());
            long n = (long) virtualQuery.invokeExact(s.state, MemorySegment.ofAddress(address), mbi, mbi.byteSize());
            if (n == 0) {
                return null;
            }
            return new MemoryInfo(MEMORY_BASIC_INFORMATION.BaseAddress(mbi).address(),
                MEMORY_BASIC_INFORMATION.AllocationBase(mbi).address(), MEMORY_BASIC_INFORMATION.RegionSize(mbi),
                MEMORY_BASIC_INFORMATION.State(mbi), MEMORY_BASIC_INFORMATION.Protect(mbi), MEMORY_BASIC_INFORMATION.Type(mbi));
        } catch (Throwable t) {
            throw unexpected("VirtualQuery", t);
        }
    }

    /** {@code VirtualLock}. */
    void virtualLock(MemorySegment range) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) virtualLock.invokeExact(s.state, range, range.byteSize());
        } catch (Throwable t) {
            throw unexpected("VirtualLock", t);
        }
        check(ok, "VirtualLock", WinFlags.hex(range.address()) + ", " + range.byteSize(), s);
    }

    /**
     * {@code VirtualUnlock}. On a range that is not locked it fails with {@code ERROR_NOT_LOCKED} and
     * takes the pages out of the working set anyway: with {@code notLockedIsFine} that is the point.
     */
    void virtualUnlock(MemorySegment range, boolean notLockedIsFine) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) virtualUnlock.invokeExact(s.state, range, range.byteSize());
        } catch (Throwable t) {
            throw unexpected("VirtualUnlock", t);
        }
        if (ok != TRUE && !(notLockedIsFine && lastError(s) == ERROR_NOT_LOCKED())) {
            throw failure("VirtualUnlock", WinFlags.hex(range.address()) + ", " + range.byteSize(), lastError(s));
        }
    }

    /** {@code VirtualAlloc(address, size, MEM_COMMIT, protect)}: commits pages of a view of a {@code SEC_RESERVE} section. */
    void commit(long address, long size, int protect, String what) {
        Scratch s = scratch.get();
        MemorySegment r;
        try {
            r = (MemorySegment) virtualAlloc.invokeExact(s.state, MemorySegment.ofAddress(address), size, MEM_COMMIT(), protect);
        } catch (Throwable t) {
            throw unexpected("VirtualAlloc", t);
        }
        if (r.equals(MemorySegment.NULL)) {
            throw failure("VirtualAlloc", WinFlags.hex(address) + ", " + size + ", MEM_COMMIT, " + WinFlags.protect(protect) + " (" + what + ")",
                lastError(s));
        }
    }

    /** {@return this process's minimum and maximum working-set sizes} ({@code GetProcessWorkingSetSizeEx}) */
    long[] workingSetSize() {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG, 2);
            MemorySegment flags = arena.allocate(ValueLayout.JAVA_INT);
            int ok = (int) getProcessWorkingSetSizeEx.invokeExact(s.state, currentProcess(), out, out.asSlice(8), flags);
            check(ok, "GetProcessWorkingSetSizeEx", "GetCurrentProcess()", s);
            return new long[] {out.get(ValueLayout.JAVA_LONG, 0), out.get(ValueLayout.JAVA_LONG, 8)};
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("GetProcessWorkingSetSizeEx", t);
        }
    }

    /** {@code SetProcessWorkingSetSizeEx(GetCurrentProcess(), min, max, QUOTA_LIMITS_HARDWS_MIN_DISABLE|QUOTA_LIMITS_HARDWS_MAX_DISABLE)}: soft limits. */
    void setWorkingSetSize(long min, long max) {
        Scratch s = scratch.get();
        int ok;
        try {
            ok = (int) setProcessWorkingSetSizeEx.invokeExact(s.state, currentProcess(), min, max,
                QUOTA_LIMITS_HARDWS_MIN_DISABLE() | QUOTA_LIMITS_HARDWS_MAX_DISABLE());
        } catch (Throwable t) {
            throw unexpected("SetProcessWorkingSetSizeEx", t);
        }
        check(ok, "SetProcessWorkingSetSizeEx", "GetCurrentProcess(), " + min + ", " + max
            + ", QUOTA_LIMITS_HARDWS_MIN_DISABLE|QUOTA_LIMITS_HARDWS_MAX_DISABLE", s);
    }

    /** {@code PrefetchVirtualMemory(GetCurrentProcess(), 1, {range}, 0)}. */
    void prefetch(MemorySegment range) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment entry = arena.allocate(WIN32_MEMORY_RANGE_ENTRY.layout());
            WIN32_MEMORY_RANGE_ENTRY.VirtualAddress(entry, range);
            WIN32_MEMORY_RANGE_ENTRY.NumberOfBytes(entry, range.byteSize());
            int ok = (int) prefetchVirtualMemory.invokeExact(s.state, currentProcess(), 1L, entry, 0);
            check(ok, "PrefetchVirtualMemory", "GetCurrentProcess(), 1, {" + WinFlags.hex(range.address()) + ", "
                + range.byteSize() + "}, 0", s);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("PrefetchVirtualMemory", t);
        }
    }

    // ---------------------------------------------------------------- processes

    MemorySegment currentProcess() {
        try {
            return (MemorySegment) getCurrentProcess.invokeExact();
        } catch (Throwable t) {
            throw unexpected("GetCurrentProcess", t);
        }
    }

    int currentProcessId() {
        try {
            return (int) getCurrentProcessId.invokeExact();
        } catch (Throwable t) {
            throw unexpected("GetCurrentProcessId", t);
        }
    }

    /** {@code OpenProcess(access, FALSE, pid)}; NULL on failure, with the code. */
    Opened openProcess(int access, int pid) {
        Scratch s = scratch.get();
        try {
            MemorySegment h = (MemorySegment) openProcess.invokeExact(s.state, access, 0, pid);
            return new Opened(h, lastError(s));
        } catch (Throwable t) {
            throw unexpected("OpenProcess", t);
        }
    }

    /** {@code GetProcessTimes}: the creation time, in 100 ns units since 1601 ({@code FILETIME}). */
    long creationTime(MemorySegment process, int pid) {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment times = arena.allocate(FILETIME.layout(), 4);
            long size = FILETIME.layout().byteSize();
            int ok = (int) getProcessTimes.invokeExact(s.state, process, times, times.asSlice(size), times.asSlice(2 * size),
                times.asSlice(3 * size));
            check(ok, "GetProcessTimes", "process " + pid, s);
            return Integer.toUnsignedLong(FILETIME.dwHighDateTime(times)) << 32 | Integer.toUnsignedLong(FILETIME.dwLowDateTime(times));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("GetProcessTimes", t);
        }
    }

    // ---------------------------------------------------------------- security

    /** {@return the string form of this process's user SID}, e.g. {@code S-1-5-21-...-1001} */
    String currentUserSid() {
        Scratch s = scratch.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tokenOut = arena.allocate(ValueLayout.ADDRESS);
            int ok = (int) openProcessToken.invokeExact(s.state, currentProcess(), TOKEN_QUERY(), tokenOut);
            check(ok, "OpenProcessToken", "GetCurrentProcess(), TOKEN_QUERY", s);
            MemorySegment token = tokenOut.get(ValueLayout.ADDRESS, 0);
            try {
                MemorySegment needed = arena.allocate(ValueLayout.JAVA_INT);
                int length = 256;
                while (true) {
                    MemorySegment user = arena.allocate(length, 8);
                    ok = (int) getTokenInformation.invokeExact(s.state, token, TokenUser(), user, length, needed);
                    if (ok == TRUE) {
                        MemorySegment sid = SID_AND_ATTRIBUTES.Sid(user);
                        MemorySegment stringOut = arena.allocate(ValueLayout.ADDRESS);
                        ok = (int) convertSidToStringSid.invokeExact(s.state, sid, stringOut);
                        check(ok, "ConvertSidToStringSidW", "user SID", s);
                        MemorySegment string = stringOut.get(ValueLayout.ADDRESS, 0);
                        try {
                            return string.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_16LE);
                        } finally {
                            free(string);
                        }
                    }
                    int error = lastError(s);
                    int want = needed.get(ValueLayout.JAVA_INT, 0);
                    if (error != ERROR_INSUFFICIENT_BUFFER || want <= length) {
                        throw failure("GetTokenInformation", "token, TokenUser, buffer, " + length, error);
                    }
                    length = want;
                }
            } finally {
                closeHandle(token, "process token");
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("OpenProcessToken", t);
        }
    }

    /**
     * {@return a {@code SECURITY_ATTRIBUTES} in {@code arena} whose descriptor is built from
     * {@code sddl}}; the descriptor itself is freed with {@link #freeSecurityAttributes} (it is
     * allocated by the system)
     */
    MemorySegment securityAttributes(Arena arena, String sddl) {
        Scratch s = scratch.get();
        try {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int ok = (int) convertStringSecurityDescriptor.invokeExact(s.state, wide(arena, sddl), SDDL_REVISION_1(), out,
                MemorySegment.NULL);
            check(ok, "ConvertStringSecurityDescriptorToSecurityDescriptorW", WinFlags.string(sddl) + ", SDDL_REVISION_1", s);
            MemorySegment attributes = arena.allocate(SECURITY_ATTRIBUTES.layout());
            SECURITY_ATTRIBUTES.nLength(attributes, (int) SECURITY_ATTRIBUTES.layout().byteSize());
            SECURITY_ATTRIBUTES.lpSecurityDescriptor(attributes, out.get(ValueLayout.ADDRESS, 0));
            SECURITY_ATTRIBUTES.bInheritHandle(attributes, 0);
            return attributes;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("ConvertStringSecurityDescriptorToSecurityDescriptorW", t);
        }
    }

    /**
     * {@return a security descriptor holding the DACL of the kernel object {@code handle} (opened with
     * {@code READ_CONTROL})}, allocated by the system: give it back with {@link #freeLocal}
     */
    MemorySegment daclOf(MemorySegment handle, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int error = (int) getSecurityInfo.invokeExact(handle, SE_KERNEL_OBJECT(), DACL_SECURITY_INFORMATION(), MemorySegment.NULL,
                MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, out);
            if (error != 0) {
                throw failure("GetSecurityInfo", what + ", SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION", error);
            }
            return out.get(ValueLayout.ADDRESS, 0);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("GetSecurityInfo", t);
        }
    }

    /** {@return a {@code SECURITY_ATTRIBUTES} in {@code arena} that points at {@code descriptor}} (not inheritable) */
    MemorySegment attributesFor(Arena arena, MemorySegment descriptor) {
        MemorySegment attributes = arena.allocate(SECURITY_ATTRIBUTES.layout());
        SECURITY_ATTRIBUTES.nLength(attributes, (int) SECURITY_ATTRIBUTES.layout().byteSize());
        SECURITY_ATTRIBUTES.lpSecurityDescriptor(attributes, descriptor);
        SECURITY_ATTRIBUTES.bInheritHandle(attributes, 0);
        return attributes;
    }

    /** {@code LocalFree} of a block the system allocated for us; nothing for NULL. */
    void freeLocal(MemorySegment block) {
        if (!block.equals(MemorySegment.NULL)) {
            free(block);
        }
    }

    /** Frees the descriptor of {@link #securityAttributes}; nothing for NULL. */
    void freeSecurityAttributes(MemorySegment attributes) {
        if (!attributes.equals(MemorySegment.NULL)) {
            free(SECURITY_ATTRIBUTES.lpSecurityDescriptor(attributes));
        }
    }

    private void free(MemorySegment local) {
        try {
            MemorySegment ignored = (MemorySegment) localFree.invokeExact(local);
        } catch (Throwable t) {
            throw unexpected("LocalFree", t);
        }
    }

    // ---------------------------------------------------------------- errors

    /** {@code FormatMessageW}'s text for a code, without the trailing line break. */
    String message(int code) {
        try (Arena arena = Arena.ofConfined()) {
            int chars = 512;
            MemorySegment buffer = arena.allocate(2L * chars, 2);
            int n = (int) formatMessage.invokeExact(FORMAT_MESSAGE_FROM_SYSTEM() | FORMAT_MESSAGE_IGNORE_INSERTS(),
                MemorySegment.NULL, code, 0, buffer, chars, MemorySegment.NULL);
            if (n <= 0) {
                return "no text for this code";
            }
            return buffer.getString(0, StandardCharsets.UTF_16LE).strip();
        } catch (Throwable t) {
            return "no text for this code (" + t + ")";
        }
    }

    /** {@return the exception for a failed call: code name, kind and text} */
    NativeException failure(String function, String arguments, int code) {
        return new NativeException(WinError.kind(code), function, arguments, code, WinError.name(code), message(code));
    }

    private void check(int ok, String function, String arguments, Scratch s) {
        if (ok != TRUE) {
            throw failure(function, arguments, lastError(s));
        }
    }

    private static IllegalStateException unexpected(String function, Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("calling " + function + " failed", t);
    }

    /** A UTF-16LE, NUL-terminated copy of {@code s}: {@code LPCWSTR}. */
    static MemorySegment wide(Arena arena, String s) {
        return arena.allocateFrom(s, StandardCharsets.UTF_16LE);
    }
}
