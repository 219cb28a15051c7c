package dev.panmap.internal.windows;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.OpenMode;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.testing.ChildJvm;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Windows backend on Windows, through the public API: runs only on Windows (the GitHub workflow's
 * {@code windows-latest} jobs, not yet run) and on a Windows JDK under Wine 10 ({@code make windows-jvm},
 * run by CI); the backend's Java code also runs over an emulation ({@link EmulatedWindowsPlatformTest}).
 */
@EnabledOnOs(value = OS.WINDOWS, disabledReason = "real Windows only; on Linux the emulated and Wine tests cover the backend")
class WindowsSystemTest {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private static String uniqueName() {
        return "Local\\panmap-test-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
    }

    @Test
    void theWindowsBackendIsSelected() {
        Platform platform = Platforms.current();
        assertThat(platform.name()).isEqualTo("windows-x86_64");
        assertThat(platform.baseAlignment()).isEqualTo(65536);
    }

    @Test
    void aSecondProcessAttachesByNameAtTheSameBaseAndSeesWritesAtOnce() {
        String name = uniqueName();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20).addressing(Addressing.DIRECT));
             ChildJvm child = ChildJvm.start(WindowsChild.class, "attach", name)) {
            long data = region.dataOffset();
            region.segment().set(ValueLayout.JAVA_LONG, data, 42L);
            // the child may start reading before the write: it reads after it opened, which is after this line ran
            // awaitPrefix returns the rest of the line, after "base "
            String line = child.awaitPrefix("base ", WAIT);
            assertThat(line).startsWith("0x" + Long.toHexString(region.segment().address()) + " ");
            child.awaitPrefix("replied", WAIT);
            assertThat(region.segment().get(ValueLayout.JAVA_LONG, data + 8)).isEqualTo(0xBEEFL);
            child.send("");
        }
    }

    @Test
    void aTakenBaseIsAddressInUseNamingPanmapsOwnMapping() {
        String name = uniqueName();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20).addressing(Addressing.DIRECT))) {
            assertThatThrownBy(() -> SharedRegion.open(name))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.ADDRESS_IN_USE);
                    assertThat(e.errorName()).isEqualTo("ERROR_INVALID_ADDRESS");
                    assertThat(e.getMessage()).contains("panmap's own DIRECT mapping");
                });
            try (SharedRegion again = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true))) {
                assertThat(again.segment().address()).isNotEqualTo(region.segment().address());
            }
        }
    }

    @Test
    void theWriterLockOfAKilledHolderIsTakenAgainAndCountedStale() throws Exception {
        String name = uniqueName();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16))) {
            try (ChildJvm child = ChildJvm.start(WindowsChild.class, "lock", name)) {
                child.awaitPrefix("locked", WAIT);
                assertThat(region.writerLock().tryLock()).isFalse();
                child.kill();
            }
            assertThat(region.writerLock().tryLock(Duration.ofSeconds(10))).isTrue();
            assertThat(region.writerLock().staleRecoveries()).isEqualTo(1);
            region.writerLock().unlock();
        }
    }

    @Test
    void aSameUserRegionOpensForItsUser() {
        String name = uniqueName();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16).security(RegionOptions.Security.SAME_USER));
             SharedRegion again = SharedRegion.open(name)) {
            region.segment().set(ValueLayout.JAVA_LONG, region.dataOffset(), 7L);
            assertThat(again.segment().get(ValueLayout.JAVA_LONG, again.dataOffset())).isEqualTo(7L);
        }
    }

    @Test
    void aFileRegionIsForcedToDiskAndReadBack() {
        Path file = dir.resolve("region.bin");
        try (SharedRegion region = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(1 << 16))) {
            region.segment().set(ValueLayout.JAVA_LONG, region.dataOffset(), 99L);
            region.force();
        }
        try (SharedRegion region = SharedRegion.openFile(file, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
            assertThat(region.segment().get(ValueLayout.JAVA_LONG, region.dataOffset())).isEqualTo(99L);
        }
        assertThat(SharedRegion.removeFile(file)).startsWith("removed");
    }

    @Test
    void theCmdLauncherRunsTheJarWithThisJdk() throws Exception {
        Path cli = Path.of("cli", "target");
        boolean built;
        try (var jars = java.nio.file.Files.newDirectoryStream(cli, "panmap-cli-*-all.jar")) {
            built = jars.iterator().hasNext();
        } catch (java.io.IOException e) {
            built = false;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(built, "no cli/target/panmap-cli-*-all.jar: package the command line first");
        ProcessBuilder pb = new ProcessBuilder("cmd.exe", "/c", "panmap.cmd", "--version")
            .redirectError(dir.resolve("stderr.txt").toFile()); // Wine's JVM warns there (process group affinity)
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out + java.nio.file.Files.readString(dir.resolve("stderr.txt"))).isZero();
        assertThat(out).startsWith("panmap ").contains("windows-x86_64");
    }

    @Test
    void aSectionCannotBeRemovedByNameAndTheCallSaysSo() {
        String name = uniqueName();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16))) {
            assertThat(SharedRegion.remove(name)).contains("cannot be removed by name");
        }
        assertThatThrownBy(() -> SharedRegion.open(name))
            .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
    }
}
