package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.RaceChild;
import java.time.Duration;
import java.util.List;
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
        "lock-close", "unlock-close",
        "failed-create-unlinked", "failed-create-recreated"})
    void theRaceEndsCorrectly(String scenario) {
        try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-Dpanmap.testPoints=true"),
                 RaceChild.class, scenario, Names.unique("race"))) {
            String result = child.awaitPrefix("RESULT ", Duration.ofSeconds(60));
            System.out.println(scenario + ": " + result);
            assertThat(result).startsWith("ok ");
        }
    }
}
