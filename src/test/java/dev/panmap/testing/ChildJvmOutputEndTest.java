package dev.panmap.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A child whose output ends before the awaited line fails the wait at once, not when its timeout runs out. */
@LinuxOnly
class ChildJvmOutputEndTest {
    /**
     * The wrapper exits at once without starting the JVM, as strace does under QEMU user mode (no
     * ptrace): the wait for READY fails within seconds, saying the child ended, where it took the whole
     * 120 s (x PANMAP_TIMEOUT_FACTOR: 20 minutes under QEMU) before.
     */
    @Test
    void aWaitForALineFailsAsSoonAsTheChildsOutputEnds() {
        try (ChildJvm child = ChildJvm.startWrapped(List.of("sh", "-c", "echo STARTING; exit 3", "sh"), RegionChild.class)) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> child.awaitPrefix("READY", Duration.ofSeconds(120)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("ended its output before a matching line (exited 3)")
                .hasMessageContaining("STARTING");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
            // a second wait fails as fast
            assertThatThrownBy(() -> child.awaitLine("x"::equals, Duration.ofSeconds(120))).hasMessageContaining("ended its output");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
            assertThat(child.stdoutAfterExit(Duration.ofSeconds(10))).containsExactly("STARTING");
        }
    }
}
