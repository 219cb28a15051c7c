package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.internal.windows.WindowsPlatform;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.Kernel32Emulation;
import dev.panmap.testing.LinuxOnly;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole regions on the Windows backend's Java code, run on Linux over the kernel32 emulation (test
 * scaffolding, {@link Kernel32Emulation}): the region code (header, validation, attach table, writer
 * lock records) meeting the Windows backend's decisions (64 KiB bases, sized sections, the named
 * mutex and its abandonment, process liveness through OpenProcess). Not Windows itself: see the Wine
 * harness and {@code WindowsSystemTest}.
 */
@LinuxOnly
class EmulatedWindowsRegionTest {
    @org.junit.jupiter.api.AfterAll
    static void removeLeftovers() {
        if (org.junit.jupiter.api.condition.OS.LINUX.isCurrentOs()) {
            dev.panmap.testing.Kernel32Emulation.removeObjects("panmap-emu-region-" + ProcessHandle.current().pid() + "-");
        }
    }

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static WindowsPlatform platform;

    @TempDir
    Path dir;

    @BeforeAll
    static void emulate() {
        platform = Kernel32Emulation.platform();
    }

    private static String name() {
        return "Local\\panmap-emu-region-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
    }

    @Test
    void aDirectRegionLivesAtA64KiBBaseAndAnotherOpenSeesItsBytes() {
        String name = name();
        try (SharedRegion region = SharedRegion.open(platform, name, OpenMode.CREATE_ONLY,
                RegionOptions.defaults().size(1 << 20).addressing(Addressing.DIRECT))) {
            assertThat(region.baseAddress() % 65536).isZero();
            assertThat(region.baseAddress()).isGreaterThanOrEqualTo(WindowsPlatform.DEFAULT_DIRECT_BASE);
            region.segment().set(ValueLayout.JAVA_LONG, region.dataOffset(), 4711L);
            assertThatThrownBy(() -> SharedRegion.open(platform, name, OpenMode.OPEN_ONLY, RegionOptions.defaults()))
                .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.getMessage()).contains("panmap's own DIRECT mapping"));
            try (SharedRegion again = SharedRegion.open(platform, name, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults().allowOffsetFallback(true))) {
                assertThat(again.addressing()).isEqualTo(Addressing.DIRECT);
                assertThat(again.segment().get(ValueLayout.JAVA_LONG, again.dataOffset())).isEqualTo(4711L);
                assertThat(again.attachedProcesses()).hasSize(1).allSatisfy(p -> assertThat(p.alive()).isTrue());
            }
        }
    }

    @Test
    void anOffsetRegionIsSharedBetweenTwoProcesses() {
        String name = name();
        try (SharedRegion region = SharedRegion.open(platform, name, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(1 << 16))) {
            region.segment().set(ValueLayout.JAVA_LONG, region.dataOffset(), 99L);
            try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", Kernel32Emulation.childOption()),
                    EmulatedWindowsChild.class, "read", name)) {
                assertThat(child.awaitPrefix("value ", WAIT)).startsWith("99 base 0x");
                assertThat(region.attachedProcesses()).hasSize(2);
                child.send("");
                assertThat(child.awaitExit(WAIT)).isZero();
            }
        }
    }

    @Test
    void aLockHolderKilledInAnotherProcessLeavesAnAbandonedMutexThatIsRecoveredAsStale() {
        String name = name();
        try (SharedRegion region = SharedRegion.open(platform, name, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(1 << 16))) {
            long childPid;
            try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", Kernel32Emulation.childOption()),
                    EmulatedWindowsChild.class, "lock", name)) {
                child.awaitPrefix("locked", WAIT);
                childPid = child.pid();
                assertThat(region.writerLock().tryLock()).isFalse();
                assertThat(region.writerLock().holder()).hasValueSatisfying(p -> {
                    assertThat(p.pid()).isEqualTo(childPid);
                    assertThat(p.alive()).isTrue();
                });
                child.kill();
            }
            assertThat(region.writerLock().tryLock()).isTrue();
            assertThat(region.writerLock().staleRecoveries()).isEqualTo(1);
            assertThat(region.writerLock().lastStaleHolder()).hasValueSatisfying(p -> {
                assertThat(p.pid()).isEqualTo(childPid);
                assertThat(p.alive()).isFalse();
            });
            region.writerLock().unlock();
        }
    }

    @Test
    void aFileRegionIsCreatedForcedAndReopened() {
        Path file = dir.resolve("region.bin");
        try (SharedRegion region = SharedRegion.openFile(platform, file, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(1 << 16))) {
            region.segment().set(ValueLayout.JAVA_LONG, region.dataOffset(), 31L);
            Kernel32Emulation.reset();
            region.force();
            assertThat(Kernel32Emulation.calls("FlushFileBuffers")).isEqualTo(1);
        }
        try (SharedRegion region = SharedRegion.openFile(platform, file, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
            assertThat(region.segment().get(ValueLayout.JAVA_LONG, region.dataOffset())).isEqualTo(31L);
        }
    }

    @Test
    void aSameUserRegionIsCreatedAndOpened() {
        String name = name();
        try (SharedRegion region = SharedRegion.open(platform, name, OpenMode.CREATE_ONLY,
                RegionOptions.defaults().size(1 << 16).security(RegionOptions.Security.SAME_USER));
             SharedRegion again = SharedRegion.open(platform, name, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            region.segment().set(ValueLayout.JAVA_LONG, region.dataOffset(), 5L);
            assertThat(again.segment().get(ValueLayout.JAVA_LONG, again.dataOffset())).isEqualTo(5L);
        }
    }
}
