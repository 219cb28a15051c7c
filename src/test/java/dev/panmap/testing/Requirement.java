package dev.panmap.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A program a test needs from the machine. Absent, the test is skipped, and the reason names the
 * program and its Debian package ({@code scripts/requirements.sh} lists them all; {@code make test}
 * installs them as root, and its closing report lists what skipped, failing under {@code CI=true}).
 */
public final class Requirement {
    private Requirement() {}

    /** {@return the program's path on PATH}, or skips the test: "requires strace (Debian package strace) for ..." */
    public static Path command(String program, String debianPackage, String forWhat) {
        Path found = onPath(program);
        assumeTrue(found != null, "requires " + program + " (Debian package " + debianPackage + ") " + forWhat + ": not on PATH");
        return found;
    }

    /** {@return the program's path on PATH, or null} */
    public static Path onPath(String program) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":")).filter(d -> !d.isEmpty())
            .map(d -> Path.of(d, program)).filter(Files::isExecutable).findFirst().orElse(null);
    }
}
