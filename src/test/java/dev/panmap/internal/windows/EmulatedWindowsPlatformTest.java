package dev.panmap.internal.windows;

import static dev.panmap.internal.generated.windows.Win32.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.internal.Platform;
import dev.panmap.internal.Platform.Access;
import dev.panmap.internal.Platform.Creation;
import dev.panmap.internal.Platform.Target;
import dev.panmap.testing.Kernel32Emulation;
import dev.panmap.testing.LinuxOnly;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Windows backend's own Java code, run on Linux over the kernel32 emulation (test scaffolding,
 * {@link Kernel32Emulation}): its decisions (flags, UTF-16 names and prefixes, high/low splits,
 * granularity, handle lifecycles on every error path, the error mapping), not Windows itself.
 * Windows' behaviour is checked by the Wine harness ({@code scripts/windows-harness.sh}) and, once the
 * repository is pushed, by {@link WindowsSystemTest} on real Windows.
 */
@LinuxOnly
class EmulatedWindowsPlatformTest {
    @org.junit.jupiter.api.AfterAll
    static void removeLeftovers() {
        if (org.junit.jupiter.api.condition.OS.LINUX.isCurrentOs()) {
            dev.panmap.testing.Kernel32Emulation.removeObjects("panmap-emu-" + ProcessHandle.current().pid() + "-");
        }
    }

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long MIB = 1 << 20;
    private static WindowsPlatform platform;

    @TempDir
    Path dir;

    private int handlesBefore;
    private int viewsBefore;
    private int allocationsBefore;

    @BeforeAll
    static void emulate() {
        platform = Kernel32Emulation.platform();
    }

    @BeforeEach
    void count() {
        Kernel32Emulation.reset();
        handlesBefore = Kernel32Emulation.openHandles();
        viewsBefore = Kernel32Emulation.liveViews();
        allocationsBefore = Kernel32Emulation.liveAllocations();
    }

    @AfterEach
    void nothingLeaks() {
        assertThat(Kernel32Emulation.openHandles()).as("handles left open").isEqualTo(handlesBefore);
        assertThat(Kernel32Emulation.liveViews()).as("views left mapped").isEqualTo(viewsBefore);
        assertThat(Kernel32Emulation.liveAllocations()).as("system allocations not freed").isEqualTo(allocationsBefore);
    }

    private static String name() {
        return "Local\\panmap-emu-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
    }

    private static Creation creation() {
        return new Creation(0600, true, RegionOptions.Security.DEFAULT);
    }

    private static MemorySegment native_(Platform.Handle h) {
        return ((WindowsPlatform.WinHandle) h).handle;
    }

    private static void withHandle(Platform.Handle h, Consumer<Platform.Handle> body) {
        try {
            body.accept(h);
        } finally {
            platform.close(h);
        }
    }

    // ---------------------------------------------------------------- names

    @Test
    void namesDropTheLeadingSlashAndCarryTheirNamespace() {
        assertThat(platform.canonicalName("/orders")).isEqualTo("orders");
        assertThat(platform.canonicalName("orders", RegionOptions.Namespace.LOCAL)).isEqualTo("Local\\orders");
        assertThat(platform.canonicalName("/orders", RegionOptions.Namespace.GLOBAL)).isEqualTo("Global\\orders");
        assertThat(platform.canonicalName("local\\orders")).isEqualTo("Local\\orders");
        assertThat(platform.canonicalName("Global\\orders", RegionOptions.Namespace.GLOBAL)).isEqualTo("Global\\orders");
        assertThat(platform.canonicalName("Ørders-ß")).isEqualTo("Ørders-ß");
    }

    @Test
    void badNamesAreRefusedWithTheRule() {
        assertThatThrownBy(() -> platform.canonicalName("")).hasMessageContaining("at least one character");
        assertThatThrownBy(() -> platform.canonicalName("Local\\")).hasMessageContaining("after its prefix");
        assertThatThrownBy(() -> platform.canonicalName("a\\b")).hasMessageContaining("backslash");
        assertThatThrownBy(() -> platform.canonicalName("Local\\x", RegionOptions.Namespace.GLOBAL))
            .hasMessageContaining("names the Local\\ namespace but the options ask for GLOBAL");
        int longest = WindowsPlatform.MAX_NAME_CHARS - WindowsPlatform.SUFFIX_BUDGET;
        assertThat(platform.canonicalName("x".repeat(longest))).hasSize(longest);
        assertThatThrownBy(() -> platform.canonicalName("x".repeat(longest + 1))).hasMessageContaining("at most " + longest);
    }

    @Test
    void longPathsGetTheWin32LongPathPrefix() {
        String deep = "C:\\" + "d\\".repeat(130) + "f";
        assertThat(WindowsPlatform.longPath("C:\\a\\b")).isEqualTo("C:\\a\\b");
        assertThat(WindowsPlatform.longPath(deep)).isEqualTo("\\\\?\\" + deep);
        assertThat(WindowsPlatform.longPath("\\\\server\\share\\" + "d\\".repeat(130))).startsWith("\\\\?\\UNC\\server\\share\\");
    }

    // ---------------------------------------------------------------- sections

    @Test
    void aSectionIsCreatedPageFileBackedCommittedWithItsSizeSplitIntoDwords() {
        String name = name();
        long size = (5L << 30) + 65536; // high DWORD 1, low DWORD 0x40010000
        withHandle(platform.create(Target.shm(name), size, creation()), h -> {
            assertThat(Kernel32Emulation.protectOf(native_(h))).isEqualTo(PAGE_READWRITE() | SEC_COMMIT());
            assertThat(Kernel32Emulation.sectionSize(native_(h))).isEqualTo(size);
            assertThat(platform.status(h).size()).isEqualTo(size);
            assertThat(Kernel32Emulation.sddlOf(native_(h))).isNull();
        });
    }

    @Test
    void aSectionsSizeIsMeasuredOncePerHandleNotMappedForEveryQuery() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), created -> {
            Kernel32Emulation.reset();
            assertThat(platform.status(created).size()).isEqualTo(MIB);
            assertThat(Kernel32Emulation.calls("MapViewOfFileEx")).as("the creator knows it").isZero();
            withHandle(platform.open(Target.shm(name), false), opened -> {
                for (int i = 0; i < 5; i++) {
                    assertThat(platform.status(opened).size()).isEqualTo(MIB);
                }
                assertThat(Kernel32Emulation.calls("MapViewOfFileEx")).as("one look, then remembered").isEqualTo(1);
            });
        });
    }

    @Test
    void creatingAnExistingNameIsAlreadyExistsAndClosesTheHandleItGot() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), first -> {
            int open = Kernel32Emulation.openHandles();
            assertThatThrownBy(() -> platform.create(Target.shm(name), MIB, creation()))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS);
                    assertThat(e.errorCode()).isEqualTo(183);
                    assertThat(e.getMessage()).startsWith("CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE|SEC_COMMIT, 0, "
                        + MIB + ", \"" + name.replace("\\", "\\\\") + "\") failed: ERROR_ALREADY_EXISTS (");
                });
            assertThat(Kernel32Emulation.openHandles()).isEqualTo(open);
        });
    }

    @Test
    void aMissingNameIsNotFoundNamingOpenFileMappingW() {
        assertThatThrownBy(() -> platform.open(Target.shm("Local\\panmap-emu-missing"), true))
            .isInstanceOfSatisfying(NativeException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                assertThat(e.getMessage()).startsWith("OpenFileMappingW(FILE_MAP_READ|FILE_MAP_WRITE, FALSE, \"Local\\\\panmap-emu-missing\") failed: "
                    + "ERROR_FILE_NOT_FOUND (");
            });
    }

    @Test
    void readOnlyOpensAskForReadAndCopyAccessOnlyAndReadControlForTheSectionsSecurity() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), created -> {
            withHandle(platform.open(Target.shm(name), false), h ->
                assertThat(Kernel32Emulation.accessOf(native_(h))).isEqualTo(FILE_MAP_READ() | FILE_MAP_COPY() | READ_CONTROL()));
            withHandle(platform.open(Target.shm(name), true), h ->
                assertThat(Kernel32Emulation.accessOf(native_(h))).isEqualTo(FILE_MAP_READ() | FILE_MAP_WRITE() | READ_CONTROL()));
        });
    }

    @Test
    void aNameTakenByAnotherKindOfObjectIsAlreadyExistsAndSaysSo() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), h -> {
            // the writer lock's mutex has the section's name plus a suffix: make a section by the mutex's name
            assertThatThrownBy(() -> platform.create(Target.shm(WindowsPlatform.lockName(name, dev.panmap.internal.RegionLayout.WRITER_LOCK_BYTE)),
                    MIB, creation()))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS);
                    assertThat(e.getMessage()).contains("taken by a kernel object that is not a section");
                });
        });
    }

    @Test
    void aFailedLockMutexClosesTheNewSection() {
        Kernel32Emulation.failNext("CreateMutexW", ERROR_ACCESS_DENIED());
        assertThatThrownBy(() -> platform.create(Target.shm(name()), MIB, creation()))
            .isInstanceOfSatisfying(NativeException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.PERMISSION_DENIED);
                assertThat(e.function()).isEqualTo("CreateMutexW");
            });
    }

    @Test
    void sameUserSecurityBuildsAProtectedDaclForTheUsersSid() {
        String name = name();
        Creation sameUser = new Creation(0600, true, RegionOptions.Security.SAME_USER);
        withHandle(platform.create(Target.shm(name), MIB, sameUser), h -> {
            String sddl = Kernel32Emulation.sddlOf(native_(h));
            assertThat(sddl).matches("D:P\\(A;;GA;;;S-1-5-21-[0-9-]+\\)").isEqualTo(platform.sameUserSddl());
            assertThat(Kernel32Emulation.sddlOf(((WindowsPlatform.Section) h).mutex())).as("the lock's mutex too").isEqualTo(sddl);
        });
    }

    @Test
    void aSecurityDescriptorThatCannotBeBuiltFailsTheCreateNamingTheCall() {
        Kernel32Emulation.failNext("ConvertStringSecurityDescriptorToSecurityDescriptorW", 1336);
        assertThatThrownBy(() -> platform.create(Target.shm(name()), MIB, new Creation(0600, true, RegionOptions.Security.SAME_USER)))
            .isInstanceOfSatisfying(NativeException.class, e -> {
                assertThat(e.function()).isEqualTo("ConvertStringSecurityDescriptorToSecurityDescriptorW");
                assertThat(e.getMessage()).contains("\"D:P(A;;GA;;;S-1-5-21-").contains("SDDL_REVISION_1) failed: error 1336 (");
            });
    }

    @Test
    void removingASectionSaysItVanishesWithItsLastHandle() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), h ->
            assertThat(platform.remove(Target.shm(name))).contains("cannot be removed by name on Windows"));
        assertThat(platform.remove(Target.shm(name))).as("close, then remove: portable code must not fail here")
            .contains("does not exist").contains("nothing to remove");
    }

    // ---------------------------------------------------------------- views

    @Test
    void twoViewsOfOneSectionShareTheirBytes() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), a ->
            withHandle(platform.open(Target.shm(name), true), b -> {
                long one = platform.map(a, MIB, Access.READ_WRITE, 0, false);
                long two = platform.map(b, MIB, Access.READ_ONLY, 0, true);
                try {
                    MemorySegment.ofAddress(one).reinterpret(MIB).set(ValueLayout.JAVA_LONG, 4096, 0x1234_5678_9ABCL);
                    assertThat(MemorySegment.ofAddress(two).reinterpret(MIB).get(ValueLayout.JAVA_LONG, 4096)).isEqualTo(0x1234_5678_9ABCL);
                    assertThat(Kernel32Emulation.calls("PrefetchVirtualMemory")).as("populate").isEqualTo(1);
                } finally {
                    platform.unmap(one, MIB);
                    platform.unmap(two, MIB);
                }
            }));
    }

    @Test
    void aViewAtABaseIsExactlyThereAndATakenBaseSaysWhoTookIt() {
        String name = name();
        long base = 0x5400_0000_0000L;
        withHandle(platform.create(Target.shm(name), MIB, creation()), h -> {
            long at = platform.map(h, MIB, Access.READ_WRITE, base, false);
            try {
                assertThat(at).isEqualTo(base);
                assertThatThrownBy(() -> platform.map(h, MIB, Access.READ_WRITE, base + 65536, false))
                    .isInstanceOfSatisfying(NativeException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ErrorKind.ADDRESS_IN_USE);
                        assertThat(e.getMessage()).contains("occupied by panmap's own DIRECT mapping of section \"" + name + "\" at 0x540000000000-");
                    });
            } finally {
                platform.unmap(at, MIB);
            }
        });
    }

    @Test
    void aBaseTakenByAForeignMappingIsAddressInUseWithWhatVirtualQuerySees() {
        String name = name();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment foreign = arena.allocate(4 * MIB, 65536); // malloc'd memory, not panmap's
            withHandle(platform.create(Target.shm(name), MIB, creation()), h ->
                assertThatThrownBy(() -> platform.map(h, MIB, Access.READ_WRITE, foreign.address(), false))
                    .isInstanceOfSatisfying(NativeException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ErrorKind.ADDRESS_IN_USE);
                        assertThat(e.errorName()).isEqualTo("ERROR_INVALID_ADDRESS");
                        assertThat(e.getMessage()).contains("occupied by a mapping panmap did not make: 0x").contains("MEM_COMMIT MEM_PRIVATE");
                    }));
        }
    }

    @Test
    void aBaseOffTheAllocationGranularityIsMappedAlignment() {
        assertThat(platform.baseAlignment()).isEqualTo(65536);
        withHandle(platform.create(Target.shm(name()), MIB, creation()), h ->
            assertThatThrownBy(() -> platform.map(h, MIB, Access.READ_WRITE, 0x5500_0000_1000L, false))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.errorName()).isEqualTo("ERROR_MAPPED_ALIGNMENT");
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).startsWith("MapViewOfFileEx(section \"").contains("FILE_MAP_READ|FILE_MAP_WRITE, 0, 0, "
                        + MIB + ", 0x550000001000) failed");
                }));
    }

    @Test
    void aFailedViewLeavesNoViewAndNoBookEntry() {
        withHandle(platform.create(Target.shm(name()), MIB, creation()), h -> {
            Kernel32Emulation.failNext("MapViewOfFileEx", ERROR_NOT_ENOUGH_MEMORY());
            assertThatThrownBy(() -> platform.map(h, MIB, Access.READ_WRITE, 0x5600_0000_0000L, false))
                .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NO_MEMORY));
            long at = platform.map(h, MIB, Access.READ_WRITE, 0x5600_0000_0000L, false); // the base is free again
            platform.unmap(at, MIB);
        });
    }

    @Test
    void describeAddressRangeNamesMappedViews() {
        withHandle(platform.create(Target.shm(name()), MIB, creation()), h -> {
            long at = platform.map(h, MIB, Access.READ_WRITE, 0, false);
            try {
                assertThat(platform.describeAddressRange(at, MIB)).startsWith("0x" + Long.toHexString(at) + "-").contains("MEM_COMMIT MEM_MAPPED");
            } finally {
                platform.unmap(at, MIB);
            }
        });
    }

    // ---------------------------------------------------------------- files

    @Test
    void aFileRegionIsCreatedSizedMappedAndFlushedToDisk() throws Exception {
        Path file = dir.resolve("region.bin");
        withHandle(platform.create(Target.file(file.toString()), 3 * MIB, creation()), h -> {
            assertThat(platform.status(h).size()).isEqualTo(3 * MIB);
            long at = platform.map(h, 3 * MIB, Access.READ_WRITE, 0, false);
            try {
                MemorySegment view = MemorySegment.ofAddress(at).reinterpret(3 * MIB);
                view.set(ValueLayout.JAVA_LONG, 2 * MIB, 77L);
                Kernel32Emulation.reset();
                platform.flush(view.asSlice(0, 3 * MIB), false);
                assertThat(Kernel32Emulation.calls("FlushFileBuffers")).as("an async flush").isZero();
                platform.flush(view.asSlice(2 * MIB, 4096), true);
                assertThat(Kernel32Emulation.calls("FlushViewOfFile")).isEqualTo(2);
                assertThat(Kernel32Emulation.calls("FlushFileBuffers")).as("a sync flush of a file region").isEqualTo(1);
            } finally {
                platform.unmap(at, 3 * MIB);
            }
        });
        assertThat(Files.size(file)).isEqualTo(3 * MIB);
        try (var channel = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.nativeOrder());
            channel.read(b, 2 * MIB);
            assertThat(b.getLong(0)).isEqualTo(77L);
        }
        assertThat(platform.remove(Target.file(file.toString()))).startsWith("removed file");
        assertThat(file).doesNotExist();
    }

    @Test
    void aFileViewClosesTheSectionItMadeForItself() throws Exception {
        Path file = dir.resolve("f.bin");
        Files.write(file, new byte[(int) MIB]);
        withHandle(platform.open(Target.file(file.toString()), false), h -> {
            int handles = Kernel32Emulation.openHandles();
            long at = platform.map(h, MIB, Access.COPY_ON_WRITE, 0, false);
            assertThat(Kernel32Emulation.openHandles()).as("the view keeps the section, not a handle").isEqualTo(handles);
            MemorySegment.ofAddress(at).reinterpret(MIB).set(ValueLayout.JAVA_LONG, 0, 5L); // private copy
            platform.unmap(at, MIB);
        });
        assertThat(Files.readAllBytes(file)).containsOnly(0);
    }

    @Test
    void aFailedSizingDeletesTheNewFileAndClosesItsHandle() {
        Path file = dir.resolve("full.bin");
        Kernel32Emulation.failNext("SetEndOfFile", ERROR_DISK_FULL());
        assertThatThrownBy(() -> platform.create(Target.file(file.toString()), MIB, creation()))
            .isInstanceOfSatisfying(NativeException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.NO_SPACE);
                assertThat(e.getMessage()).startsWith("SetEndOfFile(file \"" + file + "\" (at " + MIB + ")) failed: ERROR_DISK_FULL (");
            });
        assertThat(file).doesNotExist();
    }

    @Test
    void creatingAnExistingFileIsAlreadyExists() throws Exception {
        Path file = dir.resolve("taken.bin");
        Files.write(file, new byte[10]);
        assertThatThrownBy(() -> platform.create(Target.file(file.toString()), MIB, creation()))
            .isInstanceOfSatisfying(NativeException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS);
                assertThat(e.getMessage()).startsWith("CreateFileW(\"" + file + "\", GENERIC_READ|GENERIC_WRITE, "
                    + "FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL) failed: ERROR_FILE_EXISTS (");
            });
        assertThat(Files.size(file)).isEqualTo(10);
    }

    @Test
    void aFileThatIsNotOnADiskIsRefusedAndClosed() throws Exception {
        Path fifo = dir.resolve("fifo");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> platform.open(Target.file(fifo.toString()), true))
            .isInstanceOfSatisfying(RegionException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                assertThat(e.getMessage()).contains("is not a disk file (GetFileType says 3)");
            });
    }

    // ---------------------------------------------------------------- the writer lock

    @Test
    void theFileLockIsOneHandlesAtATime() throws Exception {
        Path file = dir.resolve("lock.bin");
        Files.write(file, new byte[4096]);
        withHandle(platform.open(Target.file(file.toString()), true), a ->
            withHandle(platform.open(Target.file(file.toString()), true), b -> {
                assertThat(platform.tryLockWriter(a)).isTrue();
                assertThat(platform.tryLockWriter(b)).isFalse();
                platform.unlockWriter(a);
                assertThat(platform.tryLockWriter(b)).isTrue();
                platform.unlockWriter(b);
            }));
    }

    @Test
    void theSectionLockIsANamedMutexThatFollowsTheHandleNotTheThread() throws Exception {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), a ->
            withHandle(platform.open(Target.shm(name), true), b -> {
                assertThat(((WindowsPlatform.Section) b).mutex()).as("every open keeps the writer mutex alive").isNotEqualTo(MemorySegment.NULL);
                assertThat(platform.tryLockWriter(a)).isTrue();
                assertThat(platform.tryLockWriter(b)).as("the same thread, another handle").isFalse();
                assertThat(CompletableFuture.supplyAsync(() -> platform.tryLockWriter(b)).join()).as("another thread, another handle").isFalse();
                assertThat(platform.tryLockWriter(a)).as("the same handle again").isFalse();
                CompletableFuture.runAsync(() -> platform.unlockWriter(a)).join(); // another thread releases it
                assertThat(platform.tryLockWriter(b)).isTrue();
                platform.unlockWriter(b);
            }));
    }

    @Test
    void closingASectionWhoseLockItHoldsReleasesTheMutexWhicheverThreadCloses() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), keep -> {
            Platform.Handle locker = platform.open(Target.shm(name), true);
            assertThat(platform.tryLockWriter(locker)).isTrue();
            assertThat(platform.lockedElsewhere(keep, dev.panmap.internal.RegionLayout.WRITER_LOCK_BYTE)).isTrue();
            CompletableFuture.runAsync(() -> platform.close(locker)).join();
            assertThat(platform.lockedElsewhere(keep, dev.panmap.internal.RegionLayout.WRITER_LOCK_BYTE)).isFalse();
            assertThat(platform.tryLockWriter(keep)).isTrue();
            platform.unlockWriter(keep);
        });
    }

    // ---------------------------------------------------------------- memory hints and locks

    @Test
    void adviceMapsToPrefetchAndWorkingSetTrimAndTheRestIsNothing() {
        withHandle(platform.create(Target.shm(name()), MIB, creation()), h -> {
            long at = platform.map(h, MIB, Access.READ_WRITE, 0, false);
            try {
                MemorySegment range = MemorySegment.ofAddress(at).reinterpret(MIB);
                Kernel32Emulation.reset();
                platform.advise(range, Platform.Advice.WILL_NEED);
                platform.advise(range, Platform.Advice.DONT_NEED); // VirtualUnlock of an unlocked range: ERROR_NOT_LOCKED is the point
                platform.advise(range, Platform.Advice.SEQUENTIAL);
                platform.advise(range, Platform.Advice.RANDOM);
                platform.advise(range, Platform.Advice.NORMAL);
                assertThat(Kernel32Emulation.calls("PrefetchVirtualMemory")).isEqualTo(1);
                assertThat(Kernel32Emulation.calls("VirtualUnlock")).isEqualTo(1);
                platform.lockMemory(range);
                platform.unlockMemory(range);
                assertThatThrownBy(() -> platform.unlockMemory(range))
                    .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.errorName()).isEqualTo("ERROR_NOT_LOCKED"));
                Kernel32Emulation.failNext("VirtualLock", ERROR_WORKING_SET_QUOTA());
                Kernel32Emulation.failNext("SetProcessWorkingSetSizeEx", ERROR_PRIVILEGE_NOT_HELD());
                assertThatThrownBy(() -> platform.lockMemory(range))
                    .isInstanceOfSatisfying(NativeException.class, e -> {
                        assertThat(e.function()).isEqualTo("SetProcessWorkingSetSizeEx");
                        assertThat(e.getSuppressed()).singleElement().isInstanceOfSatisfying(NativeException.class,
                            s -> assertThat(s.kind()).isEqualTo(ErrorKind.NO_MEMORY));
                    });
            } finally {
                platform.unmap(at, MIB);
            }
        });
    }

    // ---------------------------------------------------------------- processes

    @Test
    void processesAreAliveWhileTheyRunAndTheirStartTimeIsStable() throws Exception {
        int self = platform.currentPid();
        assertThat(self).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(platform.processExists(self)).isTrue();
        long start = platform.processStartTime(self);
        assertThat(start).isPositive().isEqualTo(platform.processStartTime(self));
        Process child = new ProcessBuilder("sleep", "30").start();
        try {
            int pid = (int) child.pid();
            assertThat(platform.processExists(pid)).isTrue();
            assertThat(platform.processStartTime(pid)).isGreaterThanOrEqualTo(start);
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            assertThat(platform.processExists(pid)).isFalse();
            assertThat(platform.processStartTime(pid)).isEqualTo(-1);
        } finally {
            child.destroyForcibly();
        }
        assertThat(platform.processExists(0)).isFalse();
        assertThat(platform.processExists(Integer.MAX_VALUE)).isFalse();
    }

    // ---------------------------------------------------------------- errors

    @Test
    void everyKnownCodeHasANameAndAKind() {
        assertThat(WinError.name(ERROR_ALREADY_EXISTS())).isEqualTo("ERROR_ALREADY_EXISTS");
        assertThat(WinError.kind(ERROR_ALREADY_EXISTS())).isEqualTo(ErrorKind.ALREADY_EXISTS);
        assertThat(WinError.kind(ERROR_FILE_NOT_FOUND())).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(WinError.kind(ERROR_PATH_NOT_FOUND())).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(WinError.kind(ERROR_ACCESS_DENIED())).isEqualTo(ErrorKind.PERMISSION_DENIED);
        assertThat(WinError.kind(ERROR_INVALID_ADDRESS())).isEqualTo(ErrorKind.ADDRESS_IN_USE);
        assertThat(WinError.kind(ERROR_DISK_FULL())).isEqualTo(ErrorKind.NO_SPACE);
        assertThat(WinError.kind(ERROR_HANDLE_DISK_FULL())).isEqualTo(ErrorKind.NO_SPACE);
        assertThat(WinError.kind(ERROR_COMMITMENT_LIMIT())).isEqualTo(ErrorKind.NO_MEMORY);
        assertThat(WinError.kind(ERROR_NOT_ENOUGH_MEMORY())).isEqualTo(ErrorKind.NO_MEMORY);
        assertThat(WinError.kind(ERROR_LOCK_VIOLATION())).isEqualTo(ErrorKind.WOULD_BLOCK);
        assertThat(WinError.kind(ERROR_TOO_MANY_OPEN_FILES())).isEqualTo(ErrorKind.LIMIT_REACHED);
        assertThat(WinError.kind(ERROR_INVALID_NAME())).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(WinError.name(4242)).isEqualTo("error 4242");
        assertThat(WinError.kind(4242)).isEqualTo(ErrorKind.OTHER);
    }
}
