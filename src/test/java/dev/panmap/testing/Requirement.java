package dev.panmap.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

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

    /**
     * Skips the test unless {@code strace} is on PATH and can trace a process here: where there is no
     * ptrace (QEMU user mode: "PTRACE_SETOPTIONS: Function not implemented") it exits at once, and a
     * child started behind it never starts.
     */
    public static void strace(String forWhat) throws IOException, InterruptedException {
        command("strace", "strace", forWhat);
        Process probe = new ProcessBuilder("strace", "-qq", "-o", "/dev/null", "true").redirectErrorStream(true).start();
        String said = new String(probe.getInputStream().readAllBytes()).strip().replace("\n", "; ");
        if (!probe.waitFor(60, TimeUnit.SECONDS)) {
            probe.destroyForcibly();
        }
        assumeTrue(!probe.isAlive() && probe.exitValue() == 0, "strace cannot trace a process here (strace true: "
            + (probe.isAlive() ? "no exit in 60 s" : "exit " + probe.exitValue()) + ", " + said + "): no ptrace, as under QEMU user mode");
    }

    /**
     * Skips the test unless this process's {@code /proc/self/smaps} is the kernel's (see
     * {@link #hasKernelPageAccounting()}).
     */
    public static void kernelPageAccounting(String forWhat) {
        assumeTrue(hasKernelPageAccounting(), "/proc/self/smaps shows 0 kB resident in all, so it is not the kernel's (QEMU user "
            + "mode writes its own): " + forWhat + " cannot be seen here");
    }

    /**
     * {@return whether this process's {@code /proc/self/smaps} is the kernel's} Under QEMU user mode (the
     * arm64 environment) QEMU writes one of its own, every mapping at 4 KiB pages and 0 kB resident, so
     * what pages a mapping has ({@code SharedRegion.pageUsage()}, {@code panmap inspect}) cannot be
     * seen. The kernel's shows this JVM's resident pages, never 0 in all.
     */
    public static boolean hasKernelPageAccounting() {
        return KernelSmaps.SHOWN;
    }

    /** Read once: whether this process's /proc/self/smaps shows any resident page. */
    private static final class KernelSmaps {
        static final boolean SHOWN = read();

        private static boolean read() {
            long residentKb = 0;
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
                    if (line.startsWith("Rss:")) {
                        residentKb += Long.parseLong(line.substring(4).replace("kB", "").strip());
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return residentKb > 0;
        }
    }

    /** {@return the program's path on PATH, or null} */
    public static Path onPath(String program) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":")).filter(d -> !d.isEmpty())
            .map(d -> Path.of(d, program)).filter(Files::isExecutable).findFirst().orElse(null);
    }
}
