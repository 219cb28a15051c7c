package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.RaceChild;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The races of the core, each forced exactly: a child JVM with test points on
 * ({@code dev.panmap.internal.TestPoints}) stops one thread at the point where the race bites and
 * runs the other side there ({@link RaceChild} says what each scenario does and how it is judged).
 */
@LinuxOnly // the scenarios read /proc/self/maps and /dev/shm
class CoreRaceTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "grow-close-OFFSET", "grow-close-DIRECT", "refresh-close-OFFSET", "refresh-close-DIRECT",
        "attach-grow-OFFSET", "attach-grow-DIRECT",
        "lock-close", "unlock-close", "close-ends-waits", "lock-close-record",
        "failed-create-unlinked", "failed-create-recreated"})
    void theRaceEndsCorrectly(String scenario) {
        try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-Dpanmap.testPoints=true"),
                 RaceChild.class, scenario, Names.unique("race"))) {
            String result = child.awaitPrefix("RESULT ", Duration.ofSeconds(60));
            System.out.println(scenario + ": " + result);
            assertThat(result).startsWith("ok ");
        }
    }

    /**
     * A creator killed while it writes the header, and never reaped (a zombie: its pid and start time
     * are still there), is seen gone at once by an attacher: the kernel let go of the writer lock the
     * creator held while creating. Judged by the pid, as before, the attacher waited out its whole
     * timeout for a "creator still writing it".
     */
    @Test
    void aCreatorThatDiedWhileCreatingIsSeenGoneAtOnceEvenAsAZombie() throws Exception {
        String name = Names.unique("zombie");
        // python keeps the JVM as its child and never waits for it: killed, it stays a zombie
        List<String> keeper = List.of("python3", "-c",
            "import subprocess, sys, time; p = subprocess.Popen(sys.argv[1:]); time.sleep(120)");
        try (ChildJvm creator = ChildJvm.startWrapped(keeper, List.of("--enable-native-access=ALL-UNNAMED", "-Dpanmap.testPoints=true"),
                 RaceChild.class, "create-and-stall", name)) {
            long pid = Long.parseLong(creator.awaitPrefix("STALLED ", Duration.ofSeconds(60)));
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!Files.readString(Path.of("/proc/" + pid + "/stat")).split(" ")[2].equals("Z")) {
                assertThat(System.nanoTime()).as("pid %d becomes a zombie", pid).isLessThan(deadline);
                Thread.sleep(10);
            }
            long start = System.nanoTime();
            assertThatThrownBy(() -> SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults().attachTimeout(Duration.ofSeconds(30))))
                .isInstanceOfSatisfying(RegionException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_REGION);
                    assertThat(e.getMessage()).contains("was never finished: its creator (pid " + pid + ") died during creation");
                });
            assertThat((System.nanoTime() - start) / 1_000_000).as("ms to tell, of the 30 s it would wait for a live creator").isLessThan(10_000);
        } finally {
            try {
                SharedRegion.remove(name);
            } catch (RegionException ignored) {
                // not made
            }
        }
    }
}
