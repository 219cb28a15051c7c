package dev.panmap.bench;

import dev.panmap.Addressing;
import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.ReferenceChecking;
import dev.panmap.structures.RegionHeap;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The pointer-vs-offset question, measured paired: every variant chases the same list, in the same
 * random order, through the same physical pages, interleaved round by round in one JVM, so that a
 * ratio per round cancels what drifts (the machine's load, the placement of a fresh fork's pages);
 * then the C reference chases the very same shm object, in its own process, the same way.
 *
 * <p>Per size: one shm object holds a panmap {@link NodeList} of 64-byte nodes linked in random order,
 * created DIRECT at its base (stored references are absolute addresses). The same object is opened
 * again in this process, which puts it elsewhere (the offset fallback): panmap reads it there through
 * its offset path, exactly the code of an OFFSET region. The variants:
 * <ul>
 * <li>{@code java-direct-unchecked}: panmap DIRECT, {@code ReferenceChecking.UNCHECKED}: one load per hop, C's contract;</li>
 * <li>{@code java-direct}: panmap DIRECT as it ships: plus the reference check beside the chain;</li>
 * <li>{@code java-offset}: panmap's offset path: plus one add on the chain;</li>
 * <li>{@code java-bounded-segment}: {@code segment.get(JAVA_LONG, ref - base)} on the region's bounded
 *     segment, the JDK's own way (and panmap's OFFSET path before this version): subtract, bounds and
 *     alignment checks on the chain.</li>
 * </ul>
 * A sample is {@code calls x 4096} hops timed by one pair of clock reads (calibrated to about 1 ms, shorter than a scheduler slice);
 * round {@code r} runs every variant once, in the order rotated by {@code r}. Output: one JSON line
 * per sample, {@code {"bench":"chase","lang":"java","jit":"c2"|"graal","variant":...,"size":...,"round":...,"ns_per_hop":...,"t_ms":...}}
 * ({@code t_ms}: the JVM's uptime, to set beside a -XX:+PrintCompilation log),
 * followed by the C program's lines for the same size.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.panmap.bench.Paired SIZES ROUNDS [CHASE_BINARY|- [HUGETLBFS_DIR]]
 * </pre>
 */
public final class Paired {
    static final int NODE = 64;
    static final int STEPS = 4096;
    static final long SAMPLE_NANOS = 1_000_000;
    static final long WARMUP_AFTER_TOP_TIER = 1_500_000_000L;
    static final long WARMUP_MAX = 300_000_000_000L;
    /** The methods the hops run through, outermost first: the warm-up waits for their level-4 code, JitWatch logs them. */
    static final List<String> HOT = List.of("Paired.chase", "NodeList.advance", "NodeList.chase", "NodeList.chaseUnchecked", "Paired.chaseBounded");

    /**
     * {@return whether the hops run the top tier's final code} That is when {@link #chase(int, int)}, into
     * which both JITs inline advance and the hop loops (C2 a copy of NodeList's loop per call site, one
     * with DIRECT's delta the constant 0), has its level-4 compilation. Waiting for the loops' own
     * level-4 code is not enough: Graal compiled those first (at 24-29 s, load 20) and Paired.chase only
     * at 48 s, and DIRECT and OFFSET went from 1.38 to 1.07 ns per hop at that moment.
     */
    static boolean topTierReady(JitWatch jit) {
        return jit.topTier("Paired.chase");
    }
    static final String[] VARIANTS = {"java-direct-unchecked", "java-direct", "java-offset", "java-bounded-segment"};
    /** This JVM's top-tier compiler: "graal" (-XX:+UseJVMCICompiler, see graal/flags.sh) or "c2". */
    static final String JIT = jit();

    private final long size;
    private final String suffix;           // "" for 4 KiB pages, "-huge" for the hugetlbfs twin
    private final java.nio.file.Path file; // the hugetlbfs file, or null for a shm object
    private final SharedRegion direct;
    private final SharedRegion offset;
    private final NodeList[] lists = new NodeList[3];
    private final MemorySegment bounded;
    private final long boundedBase;
    private final long first;
    private final long[] cursor = new long[VARIANTS.length];
    private int calls;

    Paired(String name, long size) {
        this(name, null, size);
    }

    /** @param file a file on a hugetlbfs mount to build the list in (variants named "-huge"), or null for the shm object {@code name} */
    Paired(String name, java.nio.file.Path file, long size) {
        this.size = size;
        this.file = file;
        this.suffix = file == null ? "" : "-huge";
        RegionOptions options = RegionOptions.defaults().size(size + (1 << 20)).addressing(Addressing.DIRECT);
        RegionOptions fallback = RegionOptions.defaults().allowOffsetFallback(true);
        if (file == null) {
            direct = SharedRegion.create(name, options);
            offset = SharedRegion.open(name, OpenMode.OPEN_ONLY, fallback);
        } else {
            direct = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, options.hugePages(dev.panmap.HugePages.REQUIRED));
            offset = SharedRegion.openFile(file, OpenMode.OPEN_ONLY, fallback);
            if (direct.pageUsage().orElseThrow().kernelPageSize() != RegionOptions.DEFAULT_HUGE_PAGE_SIZE) {
                throw new IllegalStateException(file + " is not backed by 2 MiB pages: " + direct.pageUsage().orElseThrow().describe());
            }
        }
        if (!direct.references().isDirect() || offset.references().isDirect()) {
            throw new IllegalStateException("expected a DIRECT mapping and an offset-fallback mapping: " + direct + ", " + offset);
        }
        NodeList list = NodeList.create(RegionHeap.create(direct, 0, direct.size()), NODE);
        int nodes = (int) (size / NODE);
        long[] refs = new long[nodes];
        for (int i = 0; i < nodes; i++) {
            refs[i] = list.newNode(i);
        }
        ListBench.shuffle(refs, new Random(1));
        try (WriterLock.Held held = direct.writerLock().hold()) {
            for (long ref : refs) {
                list.append(ref);
            }
        }
        lists[0] = NodeList.attach(direct, list.root(), ReferenceChecking.UNCHECKED);
        lists[1] = NodeList.attach(direct, list.root());
        lists[2] = NodeList.attach(offset, list.root());
        bounded = offset.segment();
        boundedBase = offset.references().toRef(0); // a stored reference minus this is its data offset
        first = list.first();
        java.util.Arrays.fill(cursor, first);
        for (int v = 0; v < VARIANTS.length; v++) { // every variant follows the same list: a full lap comes back
            cursor[v] = chase(v, nodes);
            if (cursor[v] != first) {
                throw new IllegalStateException(VARIANTS[v] + " does not follow the list right");
            }
            // staggered: each variant chases its own part of the list, so none runs over nodes that
            // the variant before it in the round has just brought into the cache
            cursor[v] = chase(v, (int) ((long) nodes * v / VARIANTS.length));
        }
    }

    private long chase(int variant, int steps) {
        long n = cursor[variant];
        return switch (variant) {
            case 0, 1, 2 -> lists[variant].advance(n, steps);
            default -> chaseBounded(bounded, boundedBase, n, first, steps);
        };
    }

    /** The JDK's way: the bounded segment, indexed by the reference minus the base. */
    static long chaseBounded(MemorySegment s, long base, long n, long first, int steps) {
        for (int i = 0; i < steps; i++) {
            n = s.get(ValueLayout.JAVA_LONG, n - base);
            if (n == 0) {
                n = first;
            }
        }
        return n;
    }

    /** {@return ns per hop of one sample of {@code variant}} */
    private double sample(int variant) {
        long t0 = System.nanoTime();
        for (int c = 0; c < calls; c++) {
            cursor[variant] = chase(variant, STEPS);
        }
        return (System.nanoTime() - t0) / ((double) calls * STEPS);
    }

    /**
     * Runs the rounds over one list, or over a list and its huge-page twin: then each round runs every
     * variant on both, the lists in alternating order, so that 4 KiB vs huge pages is paired too.
     */
    static void run(List<Paired> all, int rounds, String chaseBinary, JitWatch jit) throws Exception {
        // Warm-up: until the hops run level-4 code ({@link #topTierReady}), by C2 or Graal, then 1.5 s more (JFR reports a compilation up to a second late;
        // the profile settles). A fixed 1.5 s was enough for C2 but not for Graal, itself Java code
        // that C1 compiles first: at load 20 on 2 CPUs no hop loop had reached level 4 after 20 s,
        // and every round measured C1's code.
        long start = System.nanoTime();
        long readyAt = -1;
        while (true) {
            for (Paired p : all) {
                for (int v = 0; v < VARIANTS.length; v++) {
                    p.cursor[v] = p.chase(v, STEPS);
                }
            }
            long now = System.nanoTime();
            if (readyAt < 0 && topTierReady(jit)) {
                readyAt = now;
            }
            if (readyAt >= 0 && now - readyAt >= WARMUP_AFTER_TOP_TIER || now - start >= WARMUP_MAX) {
                break;
            }
        }
        long warmupMillis = (System.nanoTime() - start) / 1_000_000;
        String warmupLog = jit.takeHotLog();
        long[] before = jit.counts();
        long roundsStart = System.nanoTime();
        double slowest = 0;
        for (Paired p : all) {
            p.calls = 1;
            for (int v = 0; v < VARIANTS.length; v++) {
                slowest = Math.max(slowest, p.sample(v));
            }
        }
        int calls = (int) Math.max(1, Math.min(1000, SAMPLE_NANOS / (slowest * STEPS)));
        for (Paired p : all) {
            p.calls = calls;
        }
        for (int r = 0; r < rounds; r++) {
            for (int j = 0; j < all.size(); j++) {
                Paired p = all.get((r + j) % all.size());
                for (int k = 0; k < VARIANTS.length; k++) {
                    int v = (k + r) % VARIANTS.length;
                    double ns = p.sample(v);
                    System.out.printf("{\"bench\":\"chase\",\"lang\":\"java\",\"jit\":\"%s\",\"variant\":\"%s%s\",\"size\":%d,\"round\":%d,\"ns_per_hop\":%.4f,\"t_ms\":%d}%n",
                        JIT, VARIANTS[v], p.suffix, p.size, r, ns, ManagementFactory.getRuntimeMXBean().getUptime());
                }
            }
        }
        long roundsMillis = (System.nanoTime() - roundsStart) / 1_000_000;
        long[] after = jit.counts();
        System.out.printf("{\"bench\":\"chase-jit\",\"jit\":\"%s\",\"size\":%d,\"warmup_ms\":%d,\"top_tier\":%b,\"rounds_ms\":%d,"
                + "\"compiles_in_rounds\":%d,\"deopts_in_rounds\":%d,\"hot_compiles_in_rounds\":%d,\"hot_deopts_in_rounds\":%d,"
                + "\"warmup_log\":\"%s\",\"rounds_log\":\"%s\"}%n",
            JIT, all.get(0).size, warmupMillis, readyAt >= 0, roundsMillis, after[0] - before[0], after[1] - before[1], after[2] - before[2],
            after[3] - before[3], warmupLog.replace("\"", "'"), jit.takeHotLog().replace("\"", "'"));
        if (chaseBinary != null) {
            long hops = (long) calls * STEPS;
            List<String> command = new ArrayList<>(List.of(chaseBinary));
            for (Paired p : all) {
                command.addAll(p == all.get(0) ? List.of(p.direct.name(), Long.toHexString(p.direct.baseAddress()), Long.toHexString(p.first),
                    Long.toString(p.direct.regionSize()), Integer.toString(rounds), Long.toString(hops))
                    : List.of(p.direct.name(), Long.toHexString(p.direct.baseAddress()), Long.toHexString(p.first), Long.toString(p.direct.regionSize())));
            }
            long size = all.get(0).size;
            Process c = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    // the C program reports the object's size; the rows are keyed by the nodes' size
                    System.out.println(line.replaceFirst("\"size\":\\d+", "\"size\":" + size));
                }
            }
            if (c.waitFor() != 0) {
                throw new IllegalStateException(command + " exited " + c.exitValue());
            }
        }
    }

    static String jit() {
        try {
            return Boolean.parseBoolean(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption("UseJVMCICompiler").getValue())
                ? "graal" : "c2";
        } catch (IllegalArgumentException e) { // a VM without JVMCI
            return "c2";
        }
    }

    void close() {
        offset.close();
        direct.close();
        if (file == null) {
            SharedRegion.remove(direct.name());
        } else {
            SharedRegion.removeFile(file);
        }
    }

    public static void main(String[] args) throws Exception {
        List<Long> sizes = new ArrayList<>();
        for (String s : args[0].split(",")) {
            sizes.add(Long.parseLong(s));
        }
        int rounds = Integer.parseInt(args[1]);
        String chaseBinary = args.length > 2 && !args[2].equals("-") ? args[2] : null; // "-": no C run
        // a hugetlbfs mount (jmh/hugepages.sh makes one): the largest size also runs on 2 MiB pages, paired
        String hugeDir = args.length > 3 && !args[3].isEmpty() ? args[3] : null;
        long largest = sizes.stream().mapToLong(Long::longValue).max().orElse(0);
        try (JitWatch jit = new JitWatch(HOT)) {
            for (long size : sizes) {
                String name = "/panmap-bench-paired-" + ProcessHandle.current().pid() + "-" + size;
                List<Paired> all = new ArrayList<>();
                try {
                    all.add(new Paired(name, size));
                    if (hugeDir != null && size == largest) {
                        all.add(new Paired(null, java.nio.file.Path.of(hugeDir, "panmap-bench-paired-" + ProcessHandle.current().pid()), size));
                    }
                    run(all, rounds, chaseBinary, jit);
                } finally {
                    for (Paired p : all) {
                        p.close();
                    }
                }
            }
        }
    }
}
