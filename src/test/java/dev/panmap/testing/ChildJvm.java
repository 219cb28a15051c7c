package dev.panmap.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real child JVM on the test class path: the other process of a cross-process test. Its stdout is
 * read line by line on a daemon thread; stderr is kept for failure messages. {@link #close()} always
 * kills it (Lucene's {@code destroyForcibly()} in {@code finally}).
 *
 * <p>The children's JIT: the system property {@code panmap.jit.options} (space separated; {@code make
 * test-graal} sets it to graal/flags.sh's options, which make Graal the top tier in place of C2) goes,
 * before the options a test gives, to every child that can reach the top tier: {@link #startTiered}'s,
 * and those whose options lift the C1-only default ({@code -XX:TieredStopAtLevel=4}). A child that
 * stops at C1 runs the same code under either JIT and does not get them: with them a JVM started in
 * 2.8-3.7 s instead of 0.2 s at load 25 (no CDS with --upgrade-module-path, and JVMCI's start), which
 * made a test's 30 s wait for a child's first line run out. Nor does a child of another user
 * ({@link #launchWith}), who may not be able to read the Maven repository the Graal jars are in.
 */
public final class ChildJvm implements AutoCloseable {
    private static final List<String> JIT_OPTIONS = System.getProperty("panmap.jit.options", "").isBlank() ? List.of()
        : List.of(System.getProperty("panmap.jit.options").trim().split("\\s+"));
    private final Process process;
    /** Put on {@link #lines} (by identity) when the child's stdout ends: no line can match after it. */
    private static final String END = new String("(end of stdout)");
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer stderr = new StringBuffer();
    private final List<String> seen = new ArrayList<>();
    private final PrintWriter stdin;
    private final Thread stdoutPump;

    private ChildJvm(Process process) {
        this.process = process;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread out = new Thread(() -> pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), true));
        Thread err = new Thread(() -> pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), false));
        out.setDaemon(true);
        err.setDaemon(true);
        out.start();
        err.start();
        this.stdoutPump = out;
    }

    private void pump(BufferedReader reader, boolean out) {
        try (reader) {
            for (String line; (line = reader.readLine()) != null; ) {
                if (out) {
                    lines.add(line);
                } else {
                    stderr.append(line).append('\n');
                }
            }
        } catch (IOException ignored) {
            // the process went away
        }
        if (out) {
            lines.add(END);
        }
    }

    /**
     * How much longer than on a native machine the waits for a child may take, from the environment
     * variable {@code PANMAP_TIMEOUT_FACTOR} (a number >= 1, default 1): an emulated environment (the
     * aarch64 one under QEMU, where a JVM starts ~25x slower) sets it, instead of loosening the
     * timeouts for everyone. {@link #awaitLine} and {@link #awaitExit} multiply their timeouts by it.
     */
    public static final double TIMEOUT_FACTOR = timeoutFactor(System.getenv("PANMAP_TIMEOUT_FACTOR"));

    /** {@return the factor a value of {@code PANMAP_TIMEOUT_FACTOR} sets (null or empty: 1)} */
    static double timeoutFactor(String value) {
        if (value == null || value.isBlank()) {
            return 1;
        }
        double f;
        try {
            f = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("PANMAP_TIMEOUT_FACTOR=" + value + " is not a number (a factor >= 1, e.g. 8)");
        }
        if (!(f >= 1) || Double.isInfinite(f)) {
            throw new IllegalArgumentException("PANMAP_TIMEOUT_FACTOR=" + value + " is not a factor >= 1");
        }
        return f;
    }

    /** {@return {@code timeout} times {@link #TIMEOUT_FACTOR}} */
    public static Duration scaled(Duration timeout) {
        return TIMEOUT_FACTOR == 1 ? timeout : Duration.ofNanos((long) Math.min(Long.MAX_VALUE, timeout.toNanos() * TIMEOUT_FACTOR));
    }

    private static String described(Duration timeout) {
        return TIMEOUT_FACTOR == 1 ? timeout.toString() : scaled(timeout) + " (" + timeout + " x PANMAP_TIMEOUT_FACTOR " + TIMEOUT_FACTOR + ")";
    }

    /** The java binary of this JVM. */
    public static Path javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    /** {@return the options that choose the children's JIT (property {@code panmap.jit.options}): none for C2} */
    public static List<String> jitOptions() {
        return JIT_OPTIONS;
    }

    /** {@return the children's top-tier compiler, "Graal" or "C2", as {@link #jitOptions()} choose it} */
    public static String topTier() {
        return JIT_OPTIONS.contains("-XX:+UseJVMCICompiler") ? "Graal" : "C2";
    }

    /** The class path of this test run. */
    public static String classPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    /** Starts {@code main} in a new JVM with native access enabled. */
    public static ChildJvm start(Class<?> main, String... args) {
        return start(List.of("--enable-native-access=ALL-UNNAMED"), main, args);
    }

    /** Starts {@code main} in a new JVM with the given JVM options (C1 only, for a quick start). */
    public static ChildJvm start(List<String> jvmOptions, Class<?> main, String... args) {
        return launch(List.of(), jvmOptions, true, main, args);
    }

    /**
     * Starts {@code main} in a new JVM with the given JVM options and full tiered compilation (C1,
     * then C2), unlike the other {@code start} methods, which stop at C1 for a quick start. For stress
     * tests whose hot loops must run as C2 compiles them: C2 reorders, hoists and merges memory
     * accesses that C1 leaves as written.
     */
    public static ChildJvm startTiered(List<String> jvmOptions, Class<?> main, String... args) {
        return launch(List.of(), jvmOptions, false, main, args);
    }

    /** Starts {@code main} in a new JVM (native access on) under {@code sh -c 'umask U; exec java ...'}. */
    public static ChildJvm startWithUmask(String umask, Class<?> main, String... args) {
        return launch(List.of("sh", "-c", "umask " + umask + " && exec \"$0\" \"$@\""), List.of("--enable-native-access=ALL-UNNAMED"), true, main, args);
    }

    /**
     * Starts {@code main} (native access on) behind a wrapper command, e.g. {@code setpriv ...} or
     * {@code prlimit ...}, which must exec its arguments.
     */
    public static ChildJvm startWrapped(List<String> wrapper, Class<?> main, String... args) {
        return launch(wrapper, List.of("--enable-native-access=ALL-UNNAMED"), true, main, args);
    }

    /** As {@link #startWrapped(List, Class, String...)}, with the given JVM options (C1 only). */
    public static ChildJvm startWrapped(List<String> wrapper, List<String> jvmOptions, Class<?> main, String... args) {
        return launch(wrapper, jvmOptions, true, main, args);
    }

    /**
     * Starts {@code main} (native access on) behind a wrapper command, with an explicit class path:
     * for a child of another user, who may not read the build tree.
     */
    public static ChildJvm launchWith(List<String> wrapper, String classPath, Class<?> main, String... args) {
        return launch(wrapper, List.of("--enable-native-access=ALL-UNNAMED"), true, classPath, List.of(), main, args);
    }

    private static ChildJvm launch(List<String> prefix, List<String> jvmOptions, boolean c1Only, Class<?> main, String... args) {
        return launch(prefix, jvmOptions, c1Only, classPath(), JIT_OPTIONS, main, args);
    }

    private static ChildJvm launch(List<String> prefix, List<String> jvmOptions, boolean c1Only, String classPath, List<String> jit,
                                   Class<?> main, String... args) {
        List<String> command = new ArrayList<>(prefix);
        command.add(javaBinary().toString());
        command.add("-Xshare:auto");
        if (c1Only) {
            command.add("-XX:TieredStopAtLevel=1");
        }
        if (reachesTopTier(c1Only, jvmOptions)) {
            command.addAll(jit);
        }
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classPath);
        command.add(main.getName());
        command.addAll(List.of(args));
        try {
            return new ChildJvm(new ProcessBuilder(command).start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command, e);
        }
    }

    /** {@return whether a child started C1-only or not, with these options after, compiles at level 4} (the last -XX:TieredStopAtLevel counts) */
    static boolean reachesTopTier(boolean c1Only, List<String> jvmOptions) {
        boolean top = !c1Only;
        for (String o : jvmOptions) {
            if (o.startsWith("-XX:TieredStopAtLevel=")) {
                top = o.equals("-XX:TieredStopAtLevel=4");
            } else if (o.equals("-XX:-TieredCompilation")) {
                top = true;
            }
        }
        return top;
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Sends one line to the child's stdin. */
    public void send(String line) {
        stdin.println(line);
    }

    /**
     * Waits for the next stdout line that matches; fails with everything seen if none comes in time, or
     * as soon as the child's stdout ends (a child that exited early, or a wrapper that could not start
     * it, costs no timeout).
     */
    public String awaitLine(Predicate<String> matching, Duration timeout) {
        long deadline = System.nanoTime() + scaled(timeout).toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new AssertionError("child " + pid() + " printed no matching line within " + described(timeout)
                        + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")")
                        + "\nstdout: " + seen + "\nstderr: " + stderr);
                }
                if (line == END) { // fail now, not when the timeout runs out: nothing more will come
                    lines.add(END);
                    process.waitFor(5, TimeUnit.SECONDS);
                    throw new AssertionError("child " + pid() + " ended its output before a matching line"
                        + (process.isAlive() ? " (still running)" : " (exited " + process.exitValue() + ")")
                        + "\nstdout: " + seen + "\nstderr: " + stderr);
                }
                seen.add(line);
                if (matching.test(line)) {
                    return line;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * {@return the next stdout line, or null if none comes within {@code timeout}} (zero: only a line
     * already read). Never fails: for callers that watch several children at once.
     */
    public String pollLine(Duration timeout) {
        try {
            String line = timeout.isZero() ? lines.poll() : lines.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (line == END) { // no line will come: wait out the timeout as before, without a busy loop in the caller
                lines.add(END);
                Thread.sleep(timeout.toMillis());
                return null;
            }
            if (line != null) {
                seen.add(line);
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Waits for a stdout line that starts with {@code prefix} and returns the rest of it. */
    public String awaitPrefix(String prefix, Duration timeout) {
        return awaitLine(l -> l.startsWith(prefix), timeout).substring(prefix.length());
    }

    /** Waits for the process to exit and returns its exit code. */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(scaled(timeout).toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("child " + pid() + " did not exit within " + described(timeout) + "\nstdout: " + seen + "\nstderr: " + stderr);
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** {@return every stdout line, once the process has exited and its output is read to the end} */
    public List<String> stdoutAfterExit(Duration timeout) {
        awaitExit(timeout);
        try {
            stdoutPump.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lines.drainTo(seen);
        seen.removeIf(l -> l == END);
        return List.copyOf(seen);
    }

    public String stderr() {
        return stderr.toString();
    }

    /** SIGKILL, and wait until it is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
