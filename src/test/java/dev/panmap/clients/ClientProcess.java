package dev.panmap.clients;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.Requirement;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A C or Python client driver ({@code clients/c/tests/pmr_driver.c}, {@code clients/python/tests/driver.py})
 * as a child process: one command per stdin line, one answer per stdout line. {@link #close()} always
 * kills it. Built once per test JVM ({@link #build()}).
 */
final class ClientProcess implements AutoCloseable {
    static final Duration WAIT = ChildJvm.scaled(Duration.ofSeconds(60)); // x PANMAP_TIMEOUT_FACTOR (the arm64 environment: 10)
    static final Path REPO = Path.of("").toAbsolutePath();
    static final Path C_SOURCES = REPO.resolve("clients/c");
    static final Path C_BUILD = REPO.resolve("target/clients-c");
    static final Path PYTHON = REPO.resolve("clients/python");

    /** The clients a test runs against. */
    enum Kind {
        /** The C driver built with AddressSanitizer and UndefinedBehaviorSanitizer. */
        C,
        /** The C driver built plainly, -O2. */
        C_PLAIN,
        PYTHON
    }

    private static boolean built;

    private final Process process;
    private final Kind kind;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final StringBuffer stderr = new StringBuffer();
    private final PrintWriter stdin;

    private static String asanOptions;

    /**
     * {@return ASAN_OPTIONS for the sanitized C programs} They check for leaks where LeakSanitizer can
     * run. It cannot where the process cannot be stopped and inspected as ptrace does (under QEMU user
     * mode, the arm64 environment, every exit ends in "LeakSanitizer has encountered a fatal error"):
     * found by running the driver once, and then the programs run without the leak check (the address
     * and undefined-behaviour checks stay), which is said once on standard error.
     */
    static synchronized String asanOptions() {
        if (asanOptions == null) {
            build();
            String options = "detect_leaks=1:abort_on_error=0:exitcode=23";
            Result probe = run(List.of("sh", "-c", "exec \"$0\" < /dev/null", C_BUILD.resolve("pmr_driver-asan").toString()),
                Map.of("ASAN_OPTIONS", options), Duration.ofMinutes(1));
            if (probe.output.contains("LeakSanitizer has encountered a fatal error")) {
                System.err.println("ClientProcess: LeakSanitizer cannot run here, so the sanitized C programs run without the leak check: "
                    + probe.output.strip().replace('\n', ' '));
                options = "detect_leaks=0:abort_on_error=0:exitcode=23";
            } else if (probe.exit != 0) {
                throw new AssertionError("the sanitized C driver, run with no input, exited " + probe.exit + ":\n" + probe.output);
            }
            asanOptions = options;
        }
        return asanOptions;
    }

    /** {@return the environment of a sanitized C program: {@link #asanOptions()}} */
    static Map<String, String> asanEnv() {
        return Map.of("ASAN_OPTIONS", asanOptions());
    }

    /** Builds the C client (plain, ASan/UBSan, TSan) with make, once per JVM. */
    static synchronized void build() {
        if (built) {
            return;
        }
        Requirement.command("make", "make", "to build the C client");
        Requirement.command("cc", "gcc", "to build the C client");
        List<String> command = List.of("make", "-s", "-C", C_SOURCES.toString(), "OUT=" + C_BUILD, "all", "asan", "tsan");
        Result r = run(command, Map.of(), Duration.ofMinutes(3));
        if (r.exit != 0) {
            throw new AssertionError("building the C client failed: " + command + "\n" + r.output);
        }
        built = true;
    }

    record Result(int exit, String output) {}

    /** Runs a command to its end, stdout and stderr together, for at most {@code unscaled} x PANMAP_TIMEOUT_FACTOR. */
    static Result run(List<String> command, Map<String, String> env, Duration unscaled) {
        Duration timeout = ChildJvm.scaled(unscaled);
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().putAll(env);
            Process p = pb.start();
            StringBuilder out = new StringBuilder();
            Thread pump = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        synchronized (out) {
                            out.append(l).append('\n');
                        }
                    }
                } catch (IOException ignored) {
                    // gone
                }
            });
            pump.setDaemon(true);
            pump.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not finish within " + timeout + "\n" + out);
            }
            pump.join(10_000);
            synchronized (out) {
                return new Result(p.exitValue(), out.toString());
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The environment of every python3 run here: it skips the test if there is no python3 or the Python client refuses this machine. */
    static Map<String, String> pythonEnv() {
        Requirement.command("python3", "python3", "to run the Python client");
        Requirement.pythonClientOrdering();
        return Map.of("PYTHONPATH", PYTHON.toString(), "PYTHONDONTWRITEBYTECODE", "1");
    }

    static ClientProcess start(Kind kind) {
        build();
        List<String> command = switch (kind) {
            case C -> List.of(C_BUILD.resolve("pmr_driver-asan").toString());
            case C_PLAIN -> List.of(C_BUILD.resolve("pmr_driver").toString());
            case PYTHON -> List.of("python3", PYTHON.resolve("tests/driver.py").toString());
        };
        try {
            ProcessBuilder pb = new ProcessBuilder(command);
            if (kind == Kind.PYTHON) {
                pb.environment().putAll(pythonEnv());
            } else {
                pb.environment().putAll(asanEnv());
            }
            ClientProcess c = new ClientProcess(pb.start(), kind);
            c.await("READY");
            return c;
        } catch (IOException e) {
            throw new AssertionError("cannot start " + command, e);
        }
    }

    private ClientProcess(Process process, Kind kind) {
        this.process = process;
        this.kind = kind;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread out = new Thread(() -> pump(process.getInputStream(), true));
        Thread err = new Thread(() -> pump(process.getErrorStream(), false));
        out.setDaemon(true);
        err.setDaemon(true);
        out.start();
        err.start();
    }

    private void pump(java.io.InputStream in, boolean out) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) {
                if (out) {
                    lines.add(l);
                } else {
                    stderr.append(l).append('\n');
                }
            }
        } catch (IOException ignored) {
            // gone
        }
    }

    Kind kind() {
        return kind;
    }

    long pid() {
        return process.pid();
    }

    /** Sends a command and returns its answer line (the next line printed). */
    String ask(String command) {
        stdin.println(command);
        return next(WAIT);
    }

    /** Sends a command and returns its answer, which must start with {@code prefix}. */
    String expect(String command, String prefix) {
        String line = ask(command);
        if (!line.startsWith(prefix)) {
            throw new AssertionError(kind + " client answered \"" + line + "\" to \"" + command + "\", expected " + prefix + "...\nstderr: " + stderr);
        }
        return line;
    }

    void send(String command) {
        stdin.println(command);
    }

    String await(String prefix) {
        String line = next(WAIT);
        if (!line.startsWith(prefix)) {
            throw new AssertionError(kind + " client printed \"" + line + "\", expected " + prefix + "...\nstderr: " + stderr);
        }
        return line;
    }

    private String next(Duration timeout) {
        try {
            String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new AssertionError(kind + " client " + pid() + " printed nothing within " + timeout
                    + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")") + "\nstdout: " + seen + "\nstderr: " + stderr);
            }
            seen.add(line);
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** {@return the value of {@code key=} in an answer line} */
    static String field(String line, String key) {
        for (String part : line.split(" ")) {
            if (part.startsWith(key + "=")) {
                return part.substring(key.length() + 1);
            }
        }
        throw new AssertionError("no " + key + "= in \"" + line + "\"");
    }

    static long number(String line, String key) {
        return Long.parseLong(field(line, key));
    }

    /** Asks the client to exit and checks that it exits 0 (the sanitizers exit otherwise). */
    void exitCleanly() {
        expect("exit", "BYE");
        try {
            if (!process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(kind + " client did not exit");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (process.exitValue() != 0) {
            throw new AssertionError(kind + " client exited " + process.exitValue() + "\nstderr: " + stderr);
        }
        if (stderr.toString().contains("Sanitizer")) {
            throw new AssertionError(kind + " client: a sanitizer reported\n" + stderr);
        }
    }

    /** SIGKILL, and wait until it is gone. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String stderr() {
        return stderr.toString();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
