package dev.panmap.bench;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Cross-process ping-pong through one cache line of a {@link SharedRegion}, Java to Java; the C-C
 * reference is {@code jmh/c/pingpong.c}, which does the same.
 *
 * <p>The parent stores a sequence number in word 0 of a 64-byte line ({@code setRelease}); a child
 * JVM, spinning on it ({@code getAcquire}), answers with the same number in word 1 of the same line.
 * One round trip is one store and one answer. {@code System.nanoTime} costs about as much as a round
 * trip, so the round trips are timed two ways:
 * <ul>
 * <li>{@code "timing":"batch"}: {@code BATCH} round trips (default 1000) between two clock reads,
 *     giving ns per round trip for that batch; percentiles over the batches, and the mean over all of
 *     them. The clock's cost is spread over the batch: these are the figures to compare.
 * <li>{@code "timing":"per-sample"}: each round trip between two clock reads, into an HdrHistogram.
 *     Each sample includes about one clock read, whose cost is measured too ({@code "clock_ns"}: the
 *     median of back-to-back reads) and printed in both records; the pause the clock reads put
 *     between the round trips also slows the round trips themselves.
 * </ul>
 *
 * <p>Only the two spinning threads are pinned, not the JVMs (their JIT and GC threads run wherever
 * the scheduler puts them): the parent's main thread to the first CPU the process may run on, the
 * child's main thread to the second, each by running {@code taskset -p -c CPU TID} on its own thread
 * id (read from {@code /proc/thread-self}) and checking the result. With fewer than two CPUs, or
 * without {@code taskset} (util-linux), both run unpinned and the records say {@code "pinned":false}.
 * Do not run the whole JVM under {@code taskset}: the child would inherit the mask.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.panmap.bench.PingPong BATCHED SAMPLED
 * </pre>
 * {@code BATCHED}: round trips timed in batches (rounded up to whole batches); {@code SAMPLED}: round
 * trips timed one by one, after them. Before both, {@code PINGPONG_WARMUP_MS} (default 1000) ms of
 * round trips through the same methods in short calls, not recorded, so that C2 has compiled them
 * (the warm-up goes on until each has been called 5000 times, 200,000 round trips, which takes well
 * under the second unless the machine is very busy). Each phase stops early (at the end of a batch,
 * or of 1024 samples), with {@code "truncated":true} for the measured ones, once it has run
 * {@code PINGPONG_CAP_MS} (default 15000) ms. {@code PINGPONG_BATCH} sets the batch size (all three
 * are environment variables, as for the C program). Prints two JSON lines, {@code "batch"} then
 * {@code "per-sample"}, with the fields of the C program's.
 */
public final class PingPong {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final long PING = 0;
    private static final long PONG = 8;
    /** the child's status, on the next line: 1 pinned, 2 not */
    private static final long STATUS = 64;
    /** the parent's last store: the child exits */
    private static final long STOP = -1;
    /** the fewest calls of each measuring method in the warm-up */
    private static final long WARMUP_CALLS = 5000;
    /** spins of a stalled round trip between two looks at the clock (as STALL_SPINS in pingpong.c) */
    private static final int STALL_SPINS = 4096;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("child")) {
            child(args[1], Integer.parseInt(args[2]));
            return;
        }
        if (args.length != 2) {
            System.err.println("usage: PingPong BATCHED SAMPLED");
            System.exit(2);
        }
        int batch = (int) envLong("PINGPONG_BATCH", 1000);
        long warmupMs = envLong("PINGPONG_WARMUP_MS", 1000);
        long capNs = TimeUnit.MILLISECONDS.toNanos(envLong("PINGPONG_CAP_MS", 15000));
        int batches = Math.toIntExact((Long.parseLong(args[0]) + batch - 1) / batch);
        int sampled = Math.toIntExact(Long.parseLong(args[1]));
        if (batch < 1 || batches < 1 || sampled < 1) {
            throw new IllegalArgumentException("counts must be positive");
        }

        int[] allowed = allowedCpus();
        boolean tryPin = allowed.length >= 2;
        if (!tryPin) {
            System.err.println("pingpong: fewer than two CPUs to run on: unpinned, both processes may share one");
        }
        int parentCpu = tryPin ? allowed[0] : -1;
        int childCpu = tryPin ? allowed[1] : -1;
        String name = "/panmap-bench-pingpong-" + ProcessHandle.current().pid();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(4096))) {
            MemorySegment line = region.segment();
            // started before this thread pins itself: a process (and a thread) inherits its parent's mask
            Process child = startChild(name, childCpu);
            try {
                boolean pinned = tryPin && pinThisThread(parentCpu);
                long status;
                while ((status = (long) LONG.getAcquire(line, STATUS)) == 0) { // the child says it is attached
                    if (!child.isAlive()) {
                        throw new IllegalStateException("ping-pong child exited " + child.exitValue());
                    }
                    Thread.sleep(1);
                }
                pinned = pinned && status == 1;
                if (tryPin && !pinned) {
                    System.err.println("pingpong: pinning failed: running unpinned");
                }

                Parent parent = new Parent(line);
                parent.warmUp(TimeUnit.MILLISECONDS.toNanos(warmupMs), capNs);
                long[] clock = clockCost();

                double[] perBatch = new double[batches];
                int doneBatches = parent.batches(perBatch, batch, System.nanoTime() + capNs, STALL_SPINS);
                long batchTotal = parent.total;
                boolean batchesCut = parent.truncated;
                Histogram samples = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
                int doneSamples = parent.samples(samples, sampled, System.nanoTime() + capNs, STALL_SPINS);
                long sampleTotal = parent.total;
                boolean samplesCut = parent.truncated;

                LONG.setRelease(line, PING, STOP);
                if (!child.waitFor(60, TimeUnit.SECONDS) || child.exitValue() != 0) {
                    throw new IllegalStateException("ping-pong child did not exit cleanly");
                }

                String common = String.format(Locale.ROOT,
                    ",\"clock_ns\":%d,\"clock_mean_ns\":%.1f,\"warmup_ms\":%d,\"pinned\":%s,\"cpus\":%s", clock[0],
                    clock[1] / 10.0, warmupMs, pinned, pinned ? "[" + parentCpu + "," + childCpu + "]" : "[]");
                Arrays.sort(perBatch, 0, doneBatches);
                long count = (long) doneBatches * batch;
                boolean some = doneBatches > 0;
                System.out.println("{\"bench\":\"pingpong\",\"impl\":\"java-java\",\"timing\":\"batch\",\"batch\":" + batch
                    + ",\"count\":" + count + ",\"batches\":" + doneBatches
                    + field("mean_ns", some, some ? (double) batchTotal / count : 0)
                    + field("p50_ns", some, some ? perBatch[rank(doneBatches, 500)] : 0)
                    + field("p99_ns", some, some ? perBatch[rank(doneBatches, 990)] : 0)
                    + field("p999_ns", some, some ? perBatch[rank(doneBatches, 999)] : 0)
                    + field("max_ns", some, some ? perBatch[doneBatches - 1] : 0)
                    + common + ",\"truncated\":" + batchesCut + "}");
                some = doneSamples > 0;
                System.out.println("{\"bench\":\"pingpong\",\"impl\":\"java-java\",\"timing\":\"per-sample\",\"batch\":1"
                    + ",\"count\":" + doneSamples
                    + field("mean_ns", some, some ? (double) sampleTotal / doneSamples : 0)
                    + field("p50_ns", some, samples.getValueAtPercentile(50))
                    + field("p99_ns", some, samples.getValueAtPercentile(99))
                    + field("p999_ns", some, samples.getValueAtPercentile(99.9))
                    + field("max_ns", some, samples.getMaxValue())
                    + common + ",\"truncated\":" + samplesCut + "}");
            } finally {
                child.destroyForcibly();
            }
        } finally {
            SharedRegion.remove(name);
        }
    }

    /** The parent's side: its round trips, timed both ways. */
    private static final class Parent {
        private final MemorySegment line;
        private long seq;
        /** the sum of the timed intervals of the last phase, ns */
        long total;
        /** whether the last phase stopped at its deadline */
        boolean truncated;

        Parent(MemorySegment line) {
            this.line = line;
        }

        /**
         * One round trip; false if it stalled past deadline (checked after every stallSpins spins: a
         * fraction of a millisecond, the other side is not running), so that a busy machine cannot make
         * a phase overrun its cap by much. Round trips that do not stall never read the clock.
         */
        private static boolean roundTrip(MemorySegment line, long seq, long deadline, int stallSpins) {
            LONG.setRelease(line, PING, seq);
            int spins = 0;
            while ((long) LONG.getAcquire(line, PONG) != seq) {
                Thread.onSpinWait();
                if (++spins == stallSpins) {
                    if (System.nanoTime() - deadline > 0) {
                        return false;
                    }
                    spins = 0;
                }
            }
            return true;
        }

        /**
         * Runs both phases' methods for warmupNs, in many short calls (C2 compiles a method after some
         * hundreds of calls, and a measured phase is one long call); records nothing. It goes on past
         * warmupNs until both have been called WARMUP_CALLS times, unless capNs has passed. One call in
         * 64 takes the stall check's path on every spin, so that C2 compiles that path too rather than
         * leave a trap there that a stall in a measured phase would spring.
         */
        void warmUp(long warmupNs, long capNs) {
            double[] perBatch = new double[2];
            Histogram samples = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
            long start = System.nanoTime();
            long deadline = start + Math.max(warmupNs, capNs);
            for (long calls = 0; ; calls++) {
                long elapsed = System.nanoTime() - start;
                if (elapsed > warmupNs && (calls >= WARMUP_CALLS || elapsed > capNs)) {
                    break;
                }
                int stallSpins = (calls & 63) == 0 ? 1 : STALL_SPINS;
                batches(perBatch, 10, deadline, stallSpins);
                if (truncated) {
                    break;
                }
                samples(samples, 20, deadline, stallSpins);
                if (truncated) {
                    break;
                }
                if ((calls & 1023) == 0) {
                    samples.reset();
                }
            }
        }

        /**
         * Fills perBatch with ns per round trip of batches of batch round trips; stops after deadline
         * (a batch cut short is dropped). Returns the number of batches.
         */
        int batches(double[] perBatch, int batch, long deadline, int stallSpins) {
            MemorySegment line = this.line;
            long seq = this.seq;
            long sum = 0;
            int done = 0;
            boolean cut = false;
            while (done < perBatch.length) {
                long t0 = System.nanoTime();
                int k = 0;
                while (k < batch && roundTrip(line, ++seq, deadline, stallSpins)) {
                    k++;
                }
                long t1 = System.nanoTime();
                if (k < batch) {
                    cut = true;
                    break;
                }
                sum += t1 - t0;
                perBatch[done++] = (double) (t1 - t0) / batch;
                if (t1 - deadline > 0 && done < perBatch.length) {
                    cut = true;
                    break;
                }
            }
            this.seq = seq;
            this.total = sum;
            this.truncated = cut;
            return done;
        }

        /**
         * Records count round trips, each timed alone, into histogram; stops after deadline (checked
         * every 1024 round trips, and in a stalled one). Returns the number recorded.
         */
        int samples(Histogram histogram, int count, long deadline, int stallSpins) {
            MemorySegment line = this.line;
            long seq = this.seq;
            long sum = 0;
            long highest = histogram.getHighestTrackableValue();
            int done = 0;
            boolean cut = false;
            while (done < count) { // in chunks, the same paths in the warm-up's short calls as in the long one
                int chunk = Math.min(1024, count - done);
                for (int k = 0; k < chunk; k++) {
                    long t0 = System.nanoTime();
                    if (!roundTrip(line, ++seq, deadline, stallSpins)) {
                        cut = true;
                        break;
                    }
                    long t1 = System.nanoTime();
                    sum += t1 - t0;
                    histogram.recordValue(Math.min(t1 - t0, highest));
                    done++;
                }
                if (cut || (System.nanoTime() - deadline > 0 && done < count)) {
                    cut = true;
                    break;
                }
            }
            this.seq = seq;
            this.total = sum;
            this.truncated = cut;
            return done;
        }
    }

    /** {median ns, mean in tenths of ns} of back-to-back System.nanoTime calls; the last of three runs. */
    private static long[] clockCost() {
        long[] result = null;
        for (int run = 0; run < 3; run++) {
            result = clockRun(1_000_000);
        }
        return result;
    }

    private static long[] clockRun(int reads) {
        int[] counts = new int[4096];
        long first = System.nanoTime();
        long prev = first;
        for (int i = 0; i < reads; i++) {
            long t = System.nanoTime();
            counts[(int) Math.min(t - prev, counts.length - 1)]++;
            prev = t;
        }
        long seen = 0;
        long median = counts.length - 1;
        for (int d = 0; d < counts.length; d++) {
            if ((seen += counts[d]) * 2 >= reads) {
                median = d;
                break;
            }
        }
        return new long[] {median, (prev - first) * 10 / reads};
    }

    /** {@code ,"name":value} with one decimal, or null when there is no value */
    private static String field(String name, boolean have, double value) {
        return ",\"" + name + "\":" + (have ? String.format(Locale.ROOT, "%.1f", value) : "null");
    }

    /** nearest rank: the index of the smallest value with at least perMille / 1000 of the n values at or below it */
    private static int rank(int n, int perMille) {
        long r = ((long) n * perMille + 999) / 1000 - 1;
        return (int) Math.max(0, Math.min(n - 1, r));
    }

    private static Process startChild(String name, int cpu) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
            PingPong.class.getName(), "child", name, Integer.toString(cpu)));
        return new ProcessBuilder(command).inheritIO().start();
    }

    /** The child: pins its spinning thread (cpu ≥ 0), says so, then answers every new number until STOP. */
    private static void child(String name, int cpu) throws InterruptedException {
        try (SharedRegion region = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            MemorySegment line = region.segment();
            boolean pinned = cpu >= 0 && pinThisThread(cpu);
            LONG.setRelease(line, STATUS, pinned ? 1L : 2L);
            long last = 0;
            while ((last = answer(line, last, 16)) != STOP) {
                // answer() is called again and again so that C2 compiles it whole, as the parent's methods
            }
        }
    }

    /** Answers up to n new numbers after last; returns the last number seen, STOP at the end. */
    private static long answer(MemorySegment line, long last, int n) {
        for (int k = 0; k < n; k++) {
            long v;
            while ((v = (long) LONG.getAcquire(line, PING)) == last) {
                Thread.onSpinWait();
            }
            if (v == STOP) {
                return STOP;
            }
            LONG.setRelease(line, PONG, v);
            last = v;
        }
        return last;
    }

    /**
     * Pins the calling thread to cpu with {@code taskset -p -c cpu TID} and checks that it took (the
     * thread's Cpus_allowed_list is then cpu alone). False, with the reason on stderr, otherwise.
     */
    static boolean pinThisThread(int cpu) throws InterruptedException {
        try {
            // /proc/thread-self -> PID/task/TID
            String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
            Process taskset = new ProcessBuilder("taskset", "-p", "-c", Integer.toString(cpu), tid)
                .redirectErrorStream(true).start();
            String out = new String(taskset.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = taskset.waitFor();
            if (rc != 0) {
                System.err.println("pingpong: taskset -p -c " + cpu + " " + tid + " exited " + rc + ": " + out.strip());
                return false;
            }
            List<Integer> now = cpusAllowed("/proc/thread-self/status");
            if (!now.equals(List.of(cpu))) {
                System.err.println("pingpong: thread " + tid + " still allowed on " + now + " after taskset");
                return false;
            }
            return true;
        } catch (IOException e) {
            System.err.println("pingpong: cannot pin to CPU " + cpu + " (is taskset, from util-linux, installed?): " + e);
            return false;
        }
    }

    /** The CPUs this thread may run on, in order (its Cpus_allowed_list); empty if unknown. */
    static int[] allowedCpus() {
        try {
            return cpusAllowed("/proc/thread-self/status").stream().mapToInt(Integer::intValue).toArray();
        } catch (IOException e) {
            return new int[0];
        }
    }

    private static List<Integer> cpusAllowed(String status) throws IOException {
        List<Integer> cpus = new ArrayList<>();
        for (String l : Files.readAllLines(Path.of(status))) {
            if (l.startsWith("Cpus_allowed_list:")) {
                for (String part : l.substring(l.indexOf(':') + 1).strip().split(",")) {
                    if (part.isEmpty()) {
                        continue;
                    }
                    int dash = part.indexOf('-');
                    int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
                    int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
                    for (int c = from; c <= to; c++) {
                        cpus.add(c);
                    }
                }
            }
        }
        return cpus;
    }

    private static long envLong(String name, long fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : Long.parseLong(v.strip());
    }
}
