package dev.panmap.cli;

import dev.panmap.testing.ChildJvm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the command line as a real process: {@code java ... dev.panmap.cli.Main ARGS} on the test class path. */
final class Cli {
    static final Duration WAIT = ChildJvm.scaled(Duration.ofSeconds(60)); // x PANMAP_TIMEOUT_FACTOR (the arm64 environment: 10)

    private Cli() {}

    /** What a finished run printed and returned. */
    record Result(List<String> command, int exit, String stdout, String stderr) {
        List<String> stdoutLines() {
            return stdout.lines().toList();
        }

        List<String> stderrLines() {
            return stderr.lines().toList();
        }

        @Override
        public String toString() {
            return command.subList(command.indexOf(Main.class.getName()) + 1, command.size()) + " exited " + exit
                + "\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }

    /** Runs {@code panmap ARGS} to the end. */
    static Result run(String... args) {
        return run(List.of(), ChildJvm.classPath(), null, args);
    }

    /**
     * Runs {@code prefix... java ... -cp classPath Main ARGS} in {@code directory} (null: this one)
     * to the end; kills it if it takes longer than {@link #WAIT}.
     */
    static Result run(List<String> prefix, String classPath, Path directory, String... args) {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(ChildJvm.javaBinary().toString(), "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
            "--enable-native-access=ALL-UNNAMED", "-cp", classPath, Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        Process process = null;
        try {
            process = builder.start();
            process.getOutputStream().close();
            Drain out = new Drain(process.getInputStream());
            Drain err = new Drain(process.getErrorStream());
            if (!process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(command + " did not finish within " + WAIT);
            }
            return new Result(command, process.exitValue(), out.text(), err.text());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } finally {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }

    /** Starts {@code panmap ARGS} that runs until stopped (watch, lock); close the result to kill it. */
    static ChildJvm start(String... args) {
        return ChildJvm.start(Main.class, args);
    }

    /** Reads a stream to its end on a thread of its own. */
    private static final class Drain {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        Drain(InputStream in) {
            thread = Thread.ofPlatform().daemon().start(() -> {
                try (in) {
                    in.transferTo(bytes);
                } catch (IOException ignored) {
                    // the process went away
                }
            });
        }

        String text() throws InterruptedException {
            thread.join(WAIT.toMillis());
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
