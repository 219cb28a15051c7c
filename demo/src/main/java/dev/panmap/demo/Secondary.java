package dev.panmap.demo;

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

/**
 * A secondary JVM of the demo ({@link DemoChild}), started with this JVM's own java binary and class
 * path. Its stdout lines are queued for {@link #await}; its stderr is kept for failure messages.
 */
final class Secondary implements AutoCloseable {
    private final String role;
    private final Process process;
    private final PrintWriter stdin;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer stderr = new StringBuffer();

    private Secondary(String role, Process process) {
        this.role = role;
        this.process = process;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        pump(process.getInputStream(), true);
        pump(process.getErrorStream(), false);
    }

    /** Starts {@code DemoChild role args...}. */
    static Secondary start(String role, String... args) {
        String java = ProcessHandle.current().info().command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
            "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-cp", System.getProperty("java.class.path"), DemoChild.class.getName(), role));
        command.addAll(List.of(args));
        try {
            return new Secondary(role, new ProcessBuilder(command).start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the " + role + " JVM (" + java + "): " + e.getMessage(), e);
        }
    }

    private void pump(java.io.InputStream stream, boolean out) {
        Thread.ofPlatform().daemon().name(role + (out ? "-out" : "-err")).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (out) {
                        lines.add(line);
                    } else {
                        stderr.append(line).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        });
    }

    long pid() {
        return process.pid();
    }

    void send(String command) {
        stdin.println(command);
    }

    /** Waits for the next stdout line starting with {@code prefix}; {@return the rest of it} */
    String await(String prefix, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> skipped = new ArrayList<>();
        try {
            while (true) {
                String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null) {
                    throw new IllegalStateException("the " + role + " (pid " + pid() + ") did not answer " + prefix + " within "
                        + timeout.toSeconds() + " s" + (process.isAlive() ? "" : ": it exited with " + process.exitValue())
                        + (skipped.isEmpty() ? "" : "; it printed " + skipped)
                        + (stderr.isEmpty() ? "" : "; stderr: " + stderr.toString().strip()));
                }
                if (line.startsWith(prefix)) {
                    return line.substring(prefix.length());
                }
                skipped.add(line);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the " + role, e);
        }
    }

    /** SIGKILL on POSIX; waits until it is gone. {@return its exit code} */
    int kill() {
        process.destroyForcibly();
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Ends it: closes its stdin (it exits by itself), then kills it if it has not gone within two seconds. */
    @Override
    public void close() {
        stdin.close();
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                kill();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        }
    }
}
