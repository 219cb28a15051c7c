package dev.panmap.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** PANMAP_TIMEOUT_FACTOR: what an emulated environment sets to lengthen the waits for child JVMs. */
class ChildJvmTimeoutFactorTest {

    @Test
    void unsetMeansOneAndAFactorIsANumberOfAtLeastOne() {
        assertThat(ChildJvm.timeoutFactor(null)).isEqualTo(1);
        assertThat(ChildJvm.timeoutFactor("")).isEqualTo(1);
        assertThat(ChildJvm.timeoutFactor("8")).isEqualTo(8);
        assertThat(ChildJvm.timeoutFactor(" 2.5 ")).isEqualTo(2.5);
        for (String bad : new String[] {"0.5", "0", "-3", "NaN", "Infinity", "eight"}) {
            assertThatThrownBy(() -> ChildJvm.timeoutFactor(bad)).as(bad)
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("PANMAP_TIMEOUT_FACTOR=" + bad + " is not");
        }
    }

    @Test
    void theWaitsForAChildAreScaledByTheFactorOfThisRun() {
        Duration d = Duration.ofSeconds(30);
        assertThat(ChildJvm.scaled(d)).isEqualTo(Duration.ofNanos((long) (d.toNanos() * ChildJvm.TIMEOUT_FACTOR)));
        assertThat(ChildJvm.TIMEOUT_FACTOR).isEqualTo(ChildJvm.timeoutFactor(System.getenv("PANMAP_TIMEOUT_FACTOR")));
    }
}
