package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.testing.Kernel32Emulation;
import dev.panmap.testing.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The writer lock belongs to the open region (its handle), not to a thread, on every platform: a lock
 * held through one {@link SharedRegion} makes {@code tryLock} through another object of the same
 * region fail, in the same thread too; and a holder on one virtual thread is released from another.
 * On Linux the OFD lock always did this; on Windows a named mutex (thread-owned, recursive) said yes
 * to the second object, counted a false stale recovery and overwrote the holder record. Runs on the
 * platform of the machine, and on Linux also over the kernel32 emulation (the Windows backend's code).
 */
@EnabledOnOs(value = {OS.LINUX, OS.WINDOWS}, disabledReason = "the two supported systems")
class WriterLockHandleTest {
    @org.junit.jupiter.api.AfterAll
    static void removeLeftovers() {
        if (org.junit.jupiter.api.condition.OS.LINUX.isCurrentOs()) {
            dev.panmap.testing.Kernel32Emulation.removeObjects("panmap-test-handle-lock-" + ProcessHandle.current().pid() + "-");
            dev.panmap.testing.Kernel32Emulation.removeObjects("panmap-test-handle-lock-vt-" + ProcessHandle.current().pid() + "-");
        }
    }


    static List<String> platforms() {
        List<String> out = new ArrayList<>(List.of("system"));
        if (OS.LINUX.isCurrentOs()) {
            out.add("windows-emulated");
        }
        return out;
    }

    private static Platform platform(String which) {
        return which.equals("system") ? Platforms.current() : Kernel32Emulation.platform();
    }

    private static void remove(Platform platform, String name) {
        try {
            platform.remove(Platform.Target.shm(platform.canonicalName(name)));
        } catch (RegionException ignored) {
            // a Windows section is gone with its last handle already
        }
    }

    @ParameterizedTest
    @MethodSource("platforms")
    void aLockHeldThroughOneRegionObjectMakesTryLockThroughAnotherFailEvenInTheSameThread(String which) {
        Platform platform = platform(which);
        String name = Names.unique("handle-lock");
        try (SharedRegion a = SharedRegion.open(platform, name, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(1 << 16));
             SharedRegion b = SharedRegion.open(platform, name, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            assertThat(a.writerLock().tryLock()).isTrue();
            assertThat(b.writerLock().tryLock()).as("held through a: b must not get it").isFalse();
            assertThat(b.writerLock().holder()).hasValueSatisfying(p -> assertThat(p.alive()).isTrue());
            a.writerLock().unlock();
            assertThat(b.writerLock().tryLock()).isTrue();
            assertThat(a.writerLock().tryLock()).isFalse();
            b.writerLock().unlock();
            assertThat(a.writerLock().staleRecoveries()).as("no holder died").isZero();
            assertThat(a.writerLock().acquisitions()).isEqualTo(2);
        } finally {
            remove(platform, name);
        }
    }

    @ParameterizedTest
    @MethodSource("platforms")
    void aLockTakenOnOneVirtualThreadIsHeldAgainstOthersAndItsRegionCloses(String which) throws Exception {
        Platform platform = platform(which);
        String name = Names.unique("handle-lock-vt");
        try (SharedRegion a = SharedRegion.open(platform, name, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(1 << 16));
             SharedRegion b = SharedRegion.open(platform, name, OpenMode.OPEN_ONLY, RegionOptions.defaults());
             var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            assertThat(threads.submit(() -> a.writerLock().tryLock()).get()).isTrue();
            assertThat(threads.submit(() -> b.writerLock().tryLock()).get()).isFalse();
            threads.submit(a::close).get(); // another thread closes the holder's region: the lock goes with it
            assertThat(threads.submit(() -> b.writerLock().tryLock()).get()).isTrue();
        } finally {
            remove(platform, name);
        }
    }
}
