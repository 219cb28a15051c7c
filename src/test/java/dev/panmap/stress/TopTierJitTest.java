package dev.panmap.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stress children run under the top-tier JIT the run asks for ({@link ChildJvm#topTier()}: C2, or
 * Graal under {@code make test-graal}), and so does this test JVM (surefire's argLine): seen in a
 * tiered child by its VM flag {@code UseJVMCICompiler} ({@code -XX:+PrintFlagsFinal}), by the line Graal prints when it is created
 * ({@code -Djdk.graal.ShowConfiguration=info}: "Using "Graal Community compiler ..." loaded from class
 * files"), and by the compile log showing the child's hot method compiled at level 4.
 */
class TopTierJitTest {
    private static final Duration WAIT = Duration.ofSeconds(120);

    /** The two ways a child reaches the top tier: startTiered, or start (C1 only) lifted by -XX:TieredStopAtLevel=4 (DirectModeTest's). */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void theChildrenAndThisJvmRunTheTopTierTheRunAsksFor(boolean tiered) {
        boolean graal = ChildJvm.topTier().equals("Graal");
        List<String> own = ProcessHandle.current().info().arguments().map(List::of).orElseThrow();
        assertThat(own.contains("-XX:+UseJVMCICompiler")).as("-XX:+UseJVMCICompiler in this test JVM's arguments (surefire's argLine): " + own)
            .isEqualTo(graal);
        // experimental flags are printed only when unlocked
        List<String> options = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UnlockExperimentalVMOptions", "-XX:+PrintFlagsFinal",
            "-XX:+PrintCompilation", "-Djdk.graal.ShowConfiguration=info"));
        if (!tiered) {
            options.add("-XX:TieredStopAtLevel=4");
        }
        List<String> lines = new ArrayList<>();
        try (ChildJvm child = tiered ? ChildJvm.startTiered(options, Spin.class) : ChildJvm.start(options, Spin.class)) {
            child.awaitLine(l -> lines.add(l) && l.matches(".*\\s4\\s+" + Spin.class.getName().replace("$", "\\$") + "::hot\\s.*"), WAIT);
        }
        String report = ChildJvm.topTier() + " run, child options " + ChildJvm.jitOptions() + ", child's output: "
            + lines.stream().filter(l -> l.contains("$Spin::") || l.contains("UseJVMCICompiler") || l.startsWith("Using ")).toList();
        System.out.println("[jit] " + report);
        assertThat(lines).as(report).anyMatch(l -> l.matches("\\s*bool UseJVMCICompiler\\s+= " + graal + "\\s.*"));
        java.util.function.Predicate<String> graalLine = l -> l.matches("Using \"Graal .*compiler.*\" loaded from .*");
        if (graal) {
            assertThat(lines).as(report).anyMatch(graalLine);
        } else {
            assertThat(lines).as(report).noneMatch(graalLine);
        }
    }

    /** The child: runs a hot method for at most two minutes. */
    public static final class Spin {
        public static void main(String[] args) {
            long end = System.nanoTime() + WAIT.toNanos();
            long x = 1;
            while (System.nanoTime() < end) {
                x = hot(x);
            }
            System.out.println("END " + x);
        }

        static long hot(long x) {
            for (int i = 0; i < 1000; i++) {
                x = x * 0x9E3779B97F4A7C15L + i;
            }
            return x;
        }
    }
}
