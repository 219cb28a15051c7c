package dev.panmap.internal.windows;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.RegionOptions;
import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.internal.Platform.Access;
import dev.panmap.internal.Platform.Creation;
import dev.panmap.internal.Platform.Target;
import dev.panmap.internal.RegionLayout;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.Kernel32Emulation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Windows backend's second-pass behaviour, on both the real thing and its emulation: on Windows
 * (the workflow's {@code windows-latest} job, and {@code make windows-jvm}: a Windows JDK under Wine 10)
 * this runs {@link WindowsPlatform} over the system's kernel32; on Linux over the kernel32 emulation
 * ({@link Kernel32Emulation}). Locks that follow the handle, liveness without {@code OpenProcess},
 * waits on a word across processes, growth of sections, and the smaller items of the second pass.
 */
@EnabledOnOs(value = {OS.LINUX, OS.WINDOWS}, disabledReason = "Windows itself, or its emulation on Linux")
class WindowsBackendTest {
    @org.junit.jupiter.api.AfterAll
    static void removeLeftovers() {
        if (org.junit.jupiter.api.condition.OS.LINUX.isCurrentOs()) {
            dev.panmap.testing.Kernel32Emulation.removeObjects("panmap-backend-" + ProcessHandle.current().pid() + "-");
        }
    }

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long MIB = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final long WRITER = RegionLayout.WRITER_LOCK_BYTE;
    private static WindowsPlatform platform;

    @TempDir
    Path dir;

    @BeforeAll
    static void choose() {
        platform = OS.WINDOWS.isCurrentOs() ? (WindowsPlatform) Platforms.current() : Kernel32Emulation.platform();
    }

    private static String name() {
        return "Local\\panmap-backend-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
    }

    private static Creation creation() {
        return new Creation(0600, true, RegionOptions.Security.DEFAULT);
    }

    private static void withHandle(Platform.Handle h, Consumer<Platform.Handle> body) {
        try {
            body.accept(h);
        } finally {
            platform.close(h);
        }
    }

    /** The child JVM's options: native access, and on Linux the emulation this JVM built. */
    private static List<String> childOptions() {
        List<String> options = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
        if (!OS.WINDOWS.isCurrentOs()) {
            options.add(Kernel32Emulation.childOption());
        }
        return options;
    }

    // ---------------------------------------------------------------- locks follow the handle

    @Test
    void aLockHeldThroughOneSectionHandleMakesTryLockThroughAnotherFailInTheSameThread() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), a ->
            withHandle(platform.open(Target.shm(name), true), b -> {
                assertThat(platform.tryLockWriter(a)).isTrue();
                assertThat(platform.tryLockWriter(b)).as("same thread, other handle: a thread-owned mutex would say yes").isFalse();
                assertThat(platform.lockedElsewhere(b, WRITER)).isTrue();
                assertThat(platform.lockedElsewhere(a, WRITER)).as("never its own").isFalse();
                platform.unlockWriter(a);
                assertThat(platform.lockedElsewhere(b, WRITER)).isFalse();
                assertThat(platform.tryLockWriter(b)).isTrue();
                platform.unlockWriter(b);
            }));
    }

    @Test
    void aLockTakenInOneVirtualThreadIsReleasedInAnother() throws Exception {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), a ->
            withHandle(platform.open(Target.shm(name), true), b -> {
                try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                    assertThat(threads.submit(() -> platform.tryLockWriter(a)).get()).isTrue();
                    assertThat(threads.submit(() -> platform.tryLockWriter(b)).get()).isFalse();
                    threads.submit(() -> platform.unlockWriter(a)).get(); // no ERROR_NOT_OWNER: the owner thread releases
                    assertThat(threads.submit(() -> platform.tryLockWriter(b)).get()).isTrue();
                    threads.submit(() -> platform.unlockWriter(b)).get();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
    }

    @Test
    void aFileLockFollowsItsHandleToo() throws Exception {
        Path file = dir.resolve("lock.bin");
        Files.write(file, new byte[4096]);
        withHandle(platform.open(Target.file(file.toString()), true), a ->
            withHandle(platform.open(Target.file(file.toString()), true), b -> {
                assertThat(platform.kernelLiveness(a)).isTrue();
                assertThat(platform.tryLockWriter(a)).isTrue();
                assertThat(platform.tryLockWriter(b)).isFalse();
                assertThat(platform.lockedElsewhere(b, WRITER)).isTrue();
                assertThat(platform.lockedElsewhere(a, WRITER)).isFalse();
                CompletableFuture.runAsync(() -> platform.unlockWriter(a)).join();
                assertThat(platform.lockedElsewhere(b, WRITER)).isFalse();
            }));
    }

    @Test
    void slotLocksAreKeptByTheSystemAndReleasedWhenTheirProcessDies() {
        String name = name();
        long slot = RegionLayout.SLOT_LOCK_BYTE + 3;
        withHandle(platform.create(Target.shm(name), MIB, creation()), h -> {
            assertThat(platform.kernelLiveness(h)).as("no pid is judged on Windows either").isTrue();
            assertThat(platform.lockedElsewhere(h, slot)).as("nobody ever took it").isFalse();
            try (ChildJvm child = ChildJvm.start(childOptions(), WindowsChild.class, "slot", name, Long.toString(slot))) {
                child.awaitPrefix("holding", WAIT);
                assertThat(platform.lockedElsewhere(h, slot)).isTrue();
                assertThat(platform.tryLockByte(h, slot)).isFalse();
                child.kill();
            }
            assertThat(platform.lockedElsewhere(h, slot)).as("the system released the dead holder's lock").isFalse();
            assertThat(platform.tryLockByte(h, slot)).isTrue();
            platform.unlockByte(h, slot);
        });
    }

    @Test
    void aWriterLockMutexMadeBeforeItsSectionIsRefusedNotAdopted() {
        String name = name();
        Win32Api.Opened squatter = platform.api().createMutex(MemorySegment.NULL, WindowsPlatform.lockName(name, WRITER));
        try {
            assertThat(squatter.failed()).isFalse();
            assertThatThrownBy(() -> platform.create(Target.shm(name), MIB, creation()))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.PERMISSION_DENIED);
                    assertThat(e.getMessage()).contains("existed before its section").contains("does not adopt");
                });
            assertThatThrownBy(() -> platform.open(Target.shm(name), true)).as("and the section went with the refusal")
                .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        } finally {
            platform.api().closeHandle(squatter.handle(), "squatter");
        }
        withHandle(platform.create(Target.shm(name), MIB, creation()), h -> assertThat(platform.tryLockWriter(h)).isTrue());
    }

    // ---------------------------------------------------------------- waiting on a word across processes

    @Test
    void aWaitOnAWordThatAlreadyChangedReturnsAtOnceAndAWakeWithoutSleepersWakesNone() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), h -> {
            long at = platform.map(h, MIB, Access.READ_WRITE, 0, false);
            try {
                MemorySegment word = MemorySegment.ofAddress(at + 4096).reinterpret(4);
                assertThat(platform.wakeAddress(word, Integer.MAX_VALUE)).as("nobody ever waited").isZero();
                word.set(ValueLayout.JAVA_INT, 0, 7);
                assertThat(platform.waitOnAddress(word, 6, -1)).isTrue(); // would sleep for ever if it did not look
                long start = System.nanoTime();
                assertThat(platform.waitOnAddress(word, 7, TimeUnit.MILLISECONDS.toNanos(50))).as("timed out").isFalse();
                assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(40));
                assertThat(platform.wakeAddress(word, Integer.MAX_VALUE)).as("the sleeper left").isZero();
            } finally {
                platform.unmap(at, MIB);
            }
        });
    }

    @Test
    void aSleeperInAnotherProcessIsWokenThroughItsRegionsWord() {
        String name = name();
        withHandle(platform.create(Target.shm(name), MIB, creation()), h -> {
            long at = platform.map(h, MIB, Access.READ_WRITE, 0, false);
            try (ChildJvm child = ChildJvm.start(childOptions(), WindowsChild.class, "wait", name, "8192")) {
                MemorySegment word = MemorySegment.ofAddress(at + 8192).reinterpret(4);
                child.awaitPrefix("waiting", WAIT);
                // the child counts itself before it reads the word: once it has, a wake finds it
                long deadline = System.nanoTime() + WAIT.toNanos();
                word.set(ValueLayout.JAVA_INT, 0, 1);
                // until a wake finds it asleep, or it saw the 1 before it slept and left
                while (platform.wakeAddress(word, 1) == 0 && child.process().isAlive() && System.nanoTime() < deadline) {
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
                assertThat(child.awaitPrefix("woken ", WAIT)).isEqualTo("1");
                assertThat(child.awaitExit(WAIT)).isZero();
            } finally {
                platform.unmap(at, MIB);
            }
        });
    }

    // ---------------------------------------------------------------- growth, status

    @Test
    void aSectionThatMayGrowIsReservedAtItsSpanAndCommitsWhatItMaps() {
        String name = name();
        long span = 16 * MIB;
        withHandle(platform.create(Target.shm(name), MIB, new Creation(0600, true, RegionOptions.Security.DEFAULT, span)), a -> {
            assertThat(platform.status(a).size()).isEqualTo(span);
            long one = platform.map(a, MIB, span, Access.READ_WRITE, 0, false);
            withHandle(platform.open(Target.shm(name), true), b -> {
                assertThat(platform.status(b).size()).as("measured by the opener").isEqualTo(span);
                long two = platform.map(b, MIB, span, Access.READ_WRITE, 0, false);
                try {
                    MemorySegment.ofAddress(one).reinterpret(MIB).set(ValueLayout.JAVA_LONG, MIB - 8, 11L);
                    platform.mapMore(a, one, MIB, 4 * MIB, Access.READ_WRITE);
                    MemorySegment.ofAddress(one).reinterpret(4 * MIB).set(ValueLayout.JAVA_LONG, 4 * MIB - 8, 44L);
                    platform.mapMore(b, two, MIB, 4 * MIB, Access.READ_WRITE);
                    MemorySegment seen = MemorySegment.ofAddress(two).reinterpret(4 * MIB);
                    assertThat(seen.get(ValueLayout.JAVA_LONG, MIB - 8)).isEqualTo(11L);
                    assertThat(seen.get(ValueLayout.JAVA_LONG, 4 * MIB - 8)).isEqualTo(44L);
                    assertThatThrownBy(() -> platform.mapMore(b, two, 4 * MIB, 2 * span, Access.READ_WRITE))
                        .isInstanceOfSatisfying(dev.panmap.RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.LIMIT_REACHED));
                } finally {
                    platform.unmap(two, span);
                }
            });
            platform.unmap(one, span);
        });
    }

    @Test
    void aFileRegionDoesNotGrowAndSaysWhy() throws Exception {
        Path file = dir.resolve("grow.bin");
        Files.write(file, new byte[65536]);
        withHandle(platform.open(Target.file(file.toString()), true), h ->
            assertThatThrownBy(() -> platform.extend(h, 65536, 2 * 65536, true))
                .isInstanceOfSatisfying(dev.panmap.RegionException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.NOT_SUPPORTED);
                    assertThat(e.getMessage()).contains("file region");
                }));
        assertThat(Files.size(file)).isEqualTo(65536);
    }

    // ---------------------------------------------------------------- memory, durability

    @Test
    void lockingMoreThanTheDefaultWorkingSetRaisesItAndUnlockingLowersIt() {
        withHandle(platform.create(Target.shm(name()), 8 * MIB, creation()), h -> {
            long at = platform.map(h, 8 * MIB, Access.READ_WRITE, 0, false);
            try {
                MemorySegment range = MemorySegment.ofAddress(at).reinterpret(8 * MIB);
                long[] before = platform.api().workingSetSize();
                platform.lockMemory(range); // 8 MiB: far beyond the ~200 KiB a process may lock by default
                platform.advise(range, Platform.Advice.DONT_NEED); // must not unlock it
                platform.unlockMemory(range); // fails with ERROR_NOT_LOCKED if DONT_NEED had unlocked it
                assertThat(platform.api().workingSetSize()[0]).as("the minimum working set, lowered again").isLessThanOrEqualTo(before[0] + 16 * 4096);
            } finally {
                platform.unmap(at, 8 * MIB);
            }
        });
    }

    @Test
    void aReadOnlyFileRegionCanBeForced() throws Exception {
        Path file = dir.resolve("ro.bin");
        Files.write(file, new byte[65536]);
        withHandle(platform.open(Target.file(file.toString()), false), h -> {
            long at = platform.map(h, 65536, Access.READ_ONLY, 0, false);
            try {
                platform.flush(MemorySegment.ofAddress(at).reinterpret(65536), true); // FlushFileBuffers would need GENERIC_WRITE
            } finally {
                platform.unmap(at, 65536);
            }
        });
    }

    @Test
    void aCloseDoesNotKeepTheRangeReadableHereSoTheStructuresReadScoped() {
        assertThat(platform.closeKeepsRangeReadable()).isFalse();
    }
}
