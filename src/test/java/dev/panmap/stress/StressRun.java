package dev.panmap.stress;

import static org.assertj.core.api.Assertions.fail;

import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.Names;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One stress test's region, control words and child processes ({@link StressChild}, started with
 * the top tier on: C2, or Graal under {@code make test-graal}, see {@link ChildJvm#topTier()}), and its
 * course: start the children, wait until the top tier has compiled each one's hot method,
 * measure for a while, stop, collect each child's figures, fail with the first anomaly. Closing kills
 * every child still running and removes the regions.
 *
 * <p>System properties: {@code panmap.stress.seconds} (how long to stress after warm-up, default 3),
 * {@code panmap.stress.jvmOptions} (more options for the children, space separated),
 * {@code panmap.stress.strict} (default true; false reports the fixed bugs' outcomes as KNOWN, see {@code StressChild.Role#known}).
 */
final class StressRun implements AutoCloseable {
    static final Duration STRESS = Duration.ofMillis(Math.round(Double.parseDouble(System.getProperty("panmap.stress.seconds", "3")) * 1000));
    private static final Duration WARM = Duration.ofMillis(200);
    /** The children's top-tier compiler, "C2" or "Graal": the compile log's level 4 is its work. */
    private static final String JIT = ChildJvm.topTier();
    /**
     * How long the children may take to start and compile their hot methods (and, later, to stop): Graal
     * is Java code that C1 compiles first, so its first top-tier compilations come later (24-46 s after
     * start at load 25 on 2 CPUs, against the 60 s given to C2).
     */
    private static final Duration START = Duration.ofSeconds(JIT.equals("Graal") ? 180 : 60);

    final String protocol;
    final String name;
    final SharedRegion region;
    final Control control;
    private final List<String> otherNames = new ArrayList<>();
    private final List<Kid> kids = new ArrayList<>();
    private final StringBuilder figures = new StringBuilder();
    private String firstAnomaly;
    private String firstAnomalyWhen;
    private long startedNanos;
    private long measuredNanos;

    /** A child process in one role. */
    static final class Kid {
        final String role;
        final int id;
        final ChildJvm jvm;
        private final Pattern hot;
        private final List<String> output = new ArrayList<>();
        String hotLine;
        int c2Compiles;
        int deoptimisations;
        String result;
        boolean killed;
        boolean exited;
        /** Whether {@link #awaitHot} waits for the top tier to compile this child's hot method. */
        boolean awaitHot = true;

        Kid(String role, int id, ChildJvm jvm) {
            this.role = role;
            this.id = id;
            this.jvm = jvm;
            StringBuilder nested = new StringBuilder();
            for (String part : role.split("-")) {
                nested.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
            // a structure writer's hot method is the step its RoundWriter base runs (one role per child)
            this.hot = Pattern.compile("\\s4\\s+" + Pattern.quote(StressChild.class.getName() + "$") + "(" + nested + "|RoundWriter)::step\\s");
        }

        /** {@return the count {@code name} of this child's RESULT line} */
        long count(String name) {
            if (result == null) {
                throw new AssertionError(role + " " + id + " reported no result");
            }
            for (String field : result.split(" ")) {
                if (field.startsWith(name + "=")) {
                    return Long.parseLong(field.substring(name.length() + 1));
                }
            }
            throw new AssertionError(role + " " + id + " reported no " + name + ": " + result);
        }

        boolean isHot() {
            return hotLine != null;
        }

        private int compileLogRead;

        /** Reads the new part of the compile log (-XX:+PrintCompilation, on stderr) for this child's hot method. */
        void readCompileLog() {
            String log = jvm.stderr();
            int end = log.lastIndexOf('\n') + 1;
            if (end <= compileLogRead) {
                return;
            }
            for (String line : log.substring(compileLogRead, end).split("\n")) {
                if (hot.matcher(line).find()) {
                    if (line.contains("made not entrant")) {
                        deoptimisations++;
                    } else {
                        c2Compiles++;
                        if (hotLine == null) {
                            hotLine = line.trim().replaceAll("\\s+", " ");
                        }
                    }
                }
            }
            compileLogRead = end;
        }

        /** {@return the last 8 lines of the compile log about StressChild's classes} */
        List<String> compileLogTail() {
            List<String> mine = Arrays.stream(jvm.stderr().split("\n")).filter(l -> l.contains(StressChild.class.getName())).toList();
            return mine.subList(Math.max(0, mine.size() - 8), mine.size());
        }

        /** {@return stderr without the compile log} */
        String errors() {
            StringBuilder out = new StringBuilder();
            for (String line : jvm.stderr().split("\n")) {
                if (!line.contains("::") && !line.isBlank()) {
                    out.append(line).append('\n');
                }
            }
            return out.toString();
        }

        @Override
        public String toString() {
            return role + "#" + id + " (pid " + jvm.pid() + ")";
        }
    }

    private StressRun(String protocol, String name, SharedRegion region) {
        this.protocol = protocol;
        this.name = name;
        this.region = region;
        this.control = new Control(region.segment());
    }

    static StressRun create(String protocol, RegionOptions options) {
        String name = Names.unique("stress");
        return new StressRun(protocol, name, SharedRegion.create(name, options));
    }

    /** Removes {@code other} too at close. */
    void alsoRemove(String other) {
        otherNames.add(other);
    }

    /** Starts a child in {@code role} with id {@code id} on this run's region; {@code extra} are role arguments. */
    Kid start(String role, int id, String... extra) {
        // the compile log goes to stderr, so that it never splits the lines the child prints
        List<String> options = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-XX:+PrintCompilation",
            "-XX:+DisplayVMOutputToStderr", "-XX:+UseSerialGC", "-Xmx256m"));
        options.add("-Dpanmap.stress.strict=" + StressChild.STRICT);
        if (JIT.equals("Graal")) {
            // Graal inlined step into its OSR compilation of Role.run's loop, so step itself never reached
            // level 4 (NodeList OFFSET waited 60 s in vain): compiled on its own, it is what the test waits for
            options.addAll(List.of("-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline," + StressChild.class.getName() + "$*::step"));
        }
        String more = System.getProperty("panmap.stress.jvmOptions", "").trim();
        if (!more.isEmpty()) {
            options.addAll(Arrays.asList(more.split("\\s+")));
        }
        List<String> args = new ArrayList<>(List.of(role, name, Integer.toString(id)));
        args.addAll(List.of(extra));
        if (kids.isEmpty()) {
            startedNanos = System.nanoTime();
        }
        Kid kid = new Kid(role, id, ChildJvm.startTiered(options, StressChild.class, args.toArray(String[]::new)));
        kids.add(kid);
        return kid;
    }

    /** Kills {@code kid} (SIGKILL) and waits until it is gone. */
    void kill(Kid kid) {
        kid.killed = true;
        kid.jvm.kill();
        pump();
    }

    /** Reads what the children printed (anomalies, results) and notices exits. */
    void pump() {
        for (Kid kid : kids) {
            if (kid.exited) {
                continue;
            }
            while (true) {
                boolean alive = kid.jvm.process().isAlive();
                String line = kid.jvm.pollLine(alive ? Duration.ZERO : Duration.ofMillis(200));
                if (line == null) {
                    if (!alive) {
                        kid.exited = true;
                        if (kid.result == null && !kid.killed) {
                            anomaly(kid + " died before reporting (exit " + kid.jvm.process().exitValue() + "): "
                                + kid.output + "\n" + kid.errors());
                        }
                    }
                    break;
                }
                kid.output.add(line);
                int at = line.indexOf("ANOMALY ");
                if (at >= 0) {
                    anomaly(line.substring(at + "ANOMALY ".length()) + " [found by " + kid + "]");
                } else if (line.startsWith("RESULT ")) {
                    kid.result = line;
                }
            }
        }
    }

    /** Records an anomaly (the first one is what the test fails with) and stops the children. */
    void anomaly(String text) {
        if (firstAnomaly == null) {
            firstAnomaly = text;
            firstAnomalyWhen = String.format(Locale.ROOT, "%.2f s after the first child started, in %s", (System.nanoTime() - startedNanos) / 1e9,
                control.phase() == Control.WARMUP ? "warm-up" : "the measured phase");
        }
        control.phase(Control.STOP);
    }

    boolean failed() {
        return firstAnomaly != null;
    }

    /**
     * Waits until the top tier (C2 or Graal) has compiled the hot method of every child started so far (but those told not to
     * wait for), then a little longer.
     */
    void awaitHot() {
        long deadline = System.nanoTime() + START.toNanos();
        while (!failed() && control.anomaly() == 0) {
            pump();
            kids.forEach(Kid::readCompileLog);
            if (kids.stream().allMatch(k -> k.isHot() || k.killed || !k.awaitHot)) {
                sleep(WARM.toMillis());
                return;
            }
            if (System.nanoTime() > deadline) {
                fail(protocol + ": " + JIT + " did not compile the hot methods within " + START + ": "
                    + kids.stream().filter(k -> !k.isHot() && k.awaitHot).map(k -> k + " " + k.output + "\n" + k.errors()
                        + "its compile log's last lines for StressChild: " + k.compileLogTail()).toList());
            }
            sleep(20);
        }
    }

    /** Sets the phase to MEASURE and calls {@code tick} every millisecond for {@code length}, or until an anomaly. */
    void measure(Duration length, Runnable tick) {
        measure(length, tick, Duration.ofMillis(1));
    }

    /** Sets the phase to MEASURE and calls {@code tick} every {@code period} for {@code length}, or until an anomaly. */
    void measure(Duration length, Runnable tick, Duration period) {
        if (failed() || control.anomaly() != 0) { // found in warm-up
            sleep(200);
            pump();
            return;
        }
        control.phase(Control.MEASURE);
        long start = System.nanoTime();
        long end = start + forLoad(length).toNanos();
        while (!failed() && control.anomaly() == 0 && System.nanoTime() < end) {
            pump();
            tick.run();
            java.util.concurrent.locks.LockSupport.parkNanos(period.toNanos());
        }
        measuredNanos = System.nanoTime() - start;
    }

    /**
     * {@return {@code length}, longer on a machine whose CPUs are shared with other work} The tests'
     * floors are on work done, not on speed: with a load average of L on N CPUs each child gets about
     * N/L of a CPU, so the measuring lasts L/N times as long (at most 10 times), and a loaded machine
     * does the work a quiet one does in {@code length}.
     */
    static Duration forLoad(Duration length) {
        double load;
        try {
            load = Double.parseDouble(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (java.io.IOException | RuntimeException e) {
            return length;
        }
        double factor = Math.min(10, Math.max(1, load / Runtime.getRuntime().availableProcessors()));
        return Duration.ofNanos((long) (length.toNanos() * factor));
    }

    /** Sets the phase to STOP and waits until every child still running has reported and exited. */
    void stop() {
        control.phase(Control.STOP);
        long deadline = System.nanoTime() + START.toNanos();
        while (!kids.stream().allMatch(k -> k.exited || k.killed)) {
            pump();
            if (System.nanoTime() > deadline) {
                fail(protocol + ": children did not stop: " + kids.stream().filter(k -> !k.exited).map(k -> k + " " + k.output).toList());
            }
            sleep(5);
        }
        pump();
    }

    /** Adds a line to the figures printed by {@link #verify}. */
    void figure(String line) {
        figures.append("\n  ").append(line);
    }

    /** Prints the figures and fails with the first anomaly, if any. */
    void verify() {
        kids.forEach(Kid::readCompileLog);
        StringBuilder report = new StringBuilder(String.format(Locale.ROOT, "[stress] %s: %.2f s measured after %s warm-up",
            protocol, measuredNanos / 1e9, JIT));
        for (Kid kid : kids) {
            report.append("\n  ").append(kid).append(": ")
                .append(kid.result != null ? kid.result.substring("RESULT ".length()) : kid.killed ? "killed" : "no result")
                .append(kid.hotLine != null ? " | " + JIT + ": " + kid.hotLine + " (" + kid.c2Compiles + " compiles, " + kid.deoptimisations + " deopts)" : " | not seen compiled by " + JIT);
            for (String line : kid.output) {
                if (!line.startsWith("RESULT ")) {
                    report.append("\n    ").append(line);
                }
            }
        }
        report.append(figures);
        long anomalies = kids.stream().filter(k -> k.result != null).mapToLong(k -> k.count("anomalies")).sum();
        report.append("\n  anomalies: ").append(firstAnomaly == null ? anomalies : Math.max(anomalies, 1) + " (first " + firstAnomalyWhen + ")");
        System.out.println(report);
        if (firstAnomaly != null) {
            fail(protocol + ": " + firstAnomaly + "\n" + report);
        }
        if (anomalies > 0 || control.anomaly() != 0) {
            fail(protocol + ": a child reported an anomaly\n" + report);
        }
        for (Kid kid : kids) {
            if (kid.result == null && !kid.killed) {
                fail(protocol + ": " + kid + " reported no result\n" + report);
            }
        }
    }

    List<Kid> kids() {
        return kids;
    }

    /** {@return the sum of the count {@code name} over the children in {@code role} that reported} */
    long total(String role, String name) {
        return kids.stream().filter(k -> k.role.equals(role) && k.result != null).mapToLong(k -> k.count(name)).sum();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        try {
            control.phase(Control.STOP);
        } catch (RuntimeException ignored) {
            // the region may be closed already
        }
        for (Kid kid : kids) {
            kid.jvm.close();
        }
        try {
            region.close();
        } finally {
            SharedRegion.remove(name);
            for (String other : otherNames) {
                try {
                    SharedRegion.remove(other);
                } catch (RuntimeException ignored) {
                    // never created
                }
            }
        }
    }
}
