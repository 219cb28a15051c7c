package dev.panmap.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Without --enable-native-access, panmap fails with one line that names the flag. */
@LinuxOnly
class NativeAccessTest {

    /** The child: asks for the platform and prints what happened. */
    public static final class Probe {
        public static void main(String[] args) {
            try {
                Platforms.current();
                System.out.println("OK");
            } catch (IllegalStateException e) {
                System.out.println("REFUSED " + e.getMessage());
            }
        }
    }

    @Test
    void withoutTheFlagTheMessageNamesIt() {
        try (ChildJvm child = ChildJvm.start(List.of(), Probe.class)) {
            String line = child.awaitPrefix("REFUSED ", Duration.ofSeconds(60));
            assertThat(line).contains("--enable-native-access=ALL-UNNAMED");
            assertThat(child.awaitExit(Duration.ofSeconds(30))).isZero();
            assertThat(child.stderr()).doesNotContain("Exception");
        }
    }

    @Test
    void withTheFlagThePlatformLoads() {
        try (ChildJvm child = ChildJvm.start(Probe.class)) {
            child.awaitLine("OK"::equals, Duration.ofSeconds(60));
        }
    }
}
