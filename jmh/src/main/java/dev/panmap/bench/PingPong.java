package dev.panmap.bench;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Cross-process ping-pong through one cache line of a {@link SharedRegion}, Java to Java: the
 * parent stores a sequence number (release), a child JVM spinning on it (acquire) answers with the
 * same number in the next word of the same 64-byte line; the parent times every round trip with
 * {@code System.nanoTime} into an HdrHistogram. Run the parent pinned ({@code taskset -c 0}) and
 * say where the child goes: it is started under {@code taskset -c N} when
 * {@code -Dpingpong.childCpu=N} is given (jmh/Makefile does that when there are two CPUs).
 *
 * <pre>
 * java -Dpingpong.childCpu=1 -cp benchmarks.jar dev.panmap.bench.PingPong ROUNDS WARMUP   -> one JSON line
 * </pre>
 */
public final class PingPong {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final long PING = 0;
    private static final long PONG = 8;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("child")) {
            child(args[1], Long.parseLong(args[2]));
            return;
        }
        long rounds = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        long warmup = args.length > 1 ? Long.parseLong(args[1]) : 200_000;
        String name = "/panmap-bench-pingpong-" + ProcessHandle.current().pid();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(4096))) {
            Process child = startChild(name, rounds + warmup);
            try {
                Histogram histogram = parent(region.segment(), rounds, warmup);
                if (child.waitFor(60, TimeUnit.SECONDS) && child.exitValue() != 0) {
                    throw new IllegalStateException("ping-pong child exited " + child.exitValue());
                }
                System.out.printf("{\"bench\":\"pingpong\",\"impl\":\"java-java\",\"count\":%d,\"median_ns\":%d,\"p99_ns\":%d,"
                        + "\"p999_ns\":%d,\"max_ns\":%d}%n", histogram.getTotalCount(), histogram.getValueAtPercentile(50),
                    histogram.getValueAtPercentile(99), histogram.getValueAtPercentile(99.9), histogram.getMaxValue());
            } finally {
                child.destroyForcibly();
            }
        } finally {
            SharedRegion.remove(name);
        }
    }

    private static Process startChild(String name, long total) throws IOException {
        List<String> command = new ArrayList<>();
        String cpu = System.getProperty("pingpong.childCpu", "");
        if (!cpu.isEmpty()) { // the parent's own affinity is inherited otherwise: two spinners on one CPU
            command.addAll(List.of("taskset", "-c", cpu));
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
            PingPong.class.getName(), "child", name, Long.toString(total)));
        return new ProcessBuilder(command).inheritIO().start();
    }

    private static Histogram parent(MemorySegment line, long rounds, long warmup) {
        while ((long) LONG.getAcquire(line, PONG) != -1) { // the child says it is attached
            Thread.onSpinWait();
        }
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        for (long i = 1; i <= rounds + warmup; i++) {
            long t0 = System.nanoTime();
            LONG.setRelease(line, PING, i);
            while ((long) LONG.getAcquire(line, PONG) != i) {
                Thread.onSpinWait();
            }
            long t = System.nanoTime() - t0;
            if (i > warmup) {
                histogram.recordValue(t);
            }
        }
        return histogram;
    }

    private static void child(String name, long total) {
        try (SharedRegion region = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            MemorySegment line = region.segment();
            LONG.setRelease(line, PONG, -1L);
            for (long i = 1; i <= total; i++) {
                while ((long) LONG.getAcquire(line, PING) != i) {
                    Thread.onSpinWait();
                }
                LONG.setRelease(line, PONG, i);
            }
        }
    }
}
