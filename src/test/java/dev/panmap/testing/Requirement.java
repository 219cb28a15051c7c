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

    /**
     * Skips the test on a machine whose memory ordering the Python client refuses to rely on: it needs
     * x86-64's (TSO), CPython having no fences (clients/python, FORMAT.md §9), and on any other machine
     * its create, open (joining the attach table), lock and ring calls raise NOT_SUPPORTED.
     */
    public static void pythonClientOrdering() {
        String arch = System.getProperty("os.arch");
        assumeTrue(arch.equals("amd64") || arch.equals("x86_64"),
            "the Python client refuses to run on " + arch + ": it needs x86-64 ordering (TSO), CPython having no fences (FORMAT.md §9)");
    }

    /** {@return the program's path on PATH, or null} */
    public static Path onPath(String program) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":")).filter(d -> !d.isEmpty())
            .map(d -> Path.of(d, program)).filter(Files::isExecutable).findFirst().orElse(null);
    }
}
