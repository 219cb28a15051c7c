package dev.panmap.bench;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.internal.posix.Posix;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.StringJoiner;

/**
 * What an attach costs: {@code SharedRegion.open} + {@code close} of an existing 1 MiB region, as a
 * new user would loop over it, against C's {@code shm_open} + {@code mmap} + {@code munmap} +
 * {@code close} of the same object ({@code c/attach.c}, driven over a pipe so that its cycles run
 * interleaved with Java's). Round {@code r} runs every variant for {@code CYCLES} cycles, in the
 * r-th rotation of their order; one JSON line per variant and round carries every cycle's time:
 * <pre>{"bench":"attach","variant":"java-ro","round":r,"cycles_ns":[...]}</pre>
 * Variants: {@code java-ro}/{@code java-rw} (read-only / read-write, default options: the arena a
 * batch of regions shares, closed once per batch), {@code java-own-ro}/{@code java-own-rw}
 * ({@code RegionOptions.ownArena}: a shared arena per region, a handshake per close, the default
 * before batches), {@code java-confined-ro}/{@code java-confined-rw}
 * ({@code RegionOptions.confinedToThread}), {@code c-ro}/{@code c-rw}.
 *
 * <p>Then a long run: {@code LONG_CYCLES} cycles of {@code java-rw} in blocks of a tenth, each block's
 * median, and this process's descriptors, mappings, panmap's reserved ranges and threads before and
 * after; then as many of {@code java-own-rw}:
 * <pre>{"bench":"attach-long","variant":"java-rw","block":b,"cycles":n,"median_ns":x}</pre>
 * <pre>{"bench":"attach-resources","when":"before|after","fds":f,"maps":m,"bookRanges":r,"bookBytes":b,"threads":t}</pre>
 *
 * <p>Then the attach path taken apart: each step alone, the same number of times, one line each:
 * <pre>{"bench":"attach-step","step":"...","median_ns":x,"p99_ns":y}</pre>
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.panmap.bench.Attach ROUNDS CYCLES ATTACH_BINARY
 * </pre>
 */
public final class Attach {
    static final String[] VARIANTS = {"java-ro", "java-rw", "java-own-ro", "java-own-rw", "java-confined-ro", "java-confined-rw", "c-ro", "c-rw"};
    private static final int C_VARIANTS = 6; // the first C variant's index
    /** The long run's cycles: enough that a growth of a few percent per 10,000 cycles would show. */
    static final int LONG_CYCLES = 100_000;

    private final String name;
    private final BufferedReader fromC;
    private final PrintWriter toC;

    private Attach(String name, Process c) {
        this.name = name;
        this.fromC = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
        this.toC = new PrintWriter(c.getOutputStream(), true, StandardCharsets.UTF_8);
    }

    private static final RegionOptions[] OPTIONS = {RegionOptions.defaults(), RegionOptions.defaults().ownArena(true),
        RegionOptions.defaults().confinedToThread(true)};

    private long[] cycles(int variant, int n) throws Exception {
        if (variant >= C_VARIANTS) {
            toC.println((variant == C_VARIANTS ? "ro " : "rw ") + n);
            String line = fromC.readLine();
            if (line == null) {
                throw new IllegalStateException("c/attach ended");
            }
            return Arrays.stream(line.trim().split(" ")).mapToLong(Long::parseLong).toArray();
        }
        OpenMode mode = variant % 2 == 0 ? OpenMode.OPEN_READ_ONLY : OpenMode.OPEN_ONLY;
        RegionOptions options = OPTIONS[variant / 2];
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            SharedRegion r = SharedRegion.open(name, mode, options);
            r.close();
            t[i] = System.nanoTime() - t0;
        }
        return t;
    }

    private static String json(long[] values) {
        StringJoiner out = new StringJoiner(",", "[", "]");
        for (long v : values) {
            out.add(Long.toString(v));
        }
        return out.toString();
    }

    /** Times {@code step} {@code n} times and prints its median and p99. */
    private static void step(String what, int n, Runnable step) {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            step.run();
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        System.out.printf("{\"bench\":\"attach-step\",\"step\":\"%s\",\"median_ns\":%d,\"p99_ns\":%d}%n", what, t[n / 2], t[n * 99 / 100]);
    }

    /** The attach path's steps alone, the system calls through panmap's own wrappers. */
    private void steps(SharedRegion region, int n) {
        long size = region.regionSize();
        step("shm_open + close", n, () -> Posix.close(Posix.shmOpen(name, 0, 0)));
        int fd = Posix.shmOpen(name, 2, 0);
        try {
            step("fstat", n, () -> Posix.fstat(fd));
            step("mmap 4 KiB + munmap (the header look)", n, () -> Posix.munmap(Posix.mmap(0, 4096, 1, 1, fd, 0), 4096));
            step("mmap 1 MiB + munmap", n, () -> Posix.munmap(Posix.mmap(0, size, 3, 1, fd, 0), size));
            step("mmap 1 MiB + a reservation over it (close's unmap) + munmap", n, () -> {
                long a = Posix.mmap(0, size, 3, 1, fd, 0);
                Posix.mmap(a, size, 1, 0x02 | 0x20 | 0x4000 | 0x10, -1, 0); // PROT_READ, MAP_PRIVATE|ANONYMOUS|NORESERVE|FIXED
                Posix.munmap(a, size);
            });
        } finally {
            Posix.close(fd);
        }
        step("Arena.ofShared + a segment + close (the handshake)", n, () -> {
            Arena a = Arena.ofShared();
            MemorySegment.ofAddress(0x1000).reinterpret(4096, a, ignored -> { });
            a.close();
        });
        step("Arena.ofConfined + a segment + close", n, () -> {
            Arena a = Arena.ofConfined();
            MemorySegment.ofAddress(0x1000).reinterpret(4096, a, ignored -> { });
            a.close();
        });
        step("attach table: list (liveness of every slot)", n, region::attachedProcesses);
    }

    /**
     * The long run: {@link #LONG_CYCLES} read-write cycles of {@code variant}, a median per tenth, and
     * what the process holds around it (the default's; {@code java-own-rw} beside it, whose handshake
     * per close was seen to grow as the process ran).
     */
    private void longRun(int variant) throws Exception {
        if (variant == 1) {
            resources("before");
        }
        int block = LONG_CYCLES / 10;
        for (int b = 0; b < 10; b++) {
            long[] t = cycles(variant, block);
            Arrays.sort(t);
            System.out.printf("{\"bench\":\"attach-long\",\"variant\":\"%s\",\"block\":%d,\"cycles\":%d,\"median_ns\":%d}%n",
                VARIANTS[variant], b, block, t[block / 2]);
        }
        if (variant == 1) {
            resources("after");
        }
    }

    /** Prints this process's descriptors, mappings, panmap's reserved ranges (the POSIX book) and threads. */
    @SuppressWarnings("unchecked")
    private static void resources(String when) throws Exception {
        dev.panmap.internal.CloseBatch.endCurrent(); // a batch's closed ranges are given back when it ends: count at an end
        long fds;
        try (var list = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            fds = list.count();
        }
        long maps = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps")).size();
        Object platform = dev.panmap.internal.Platforms.current();
        List<long[]> book = (List<long[]>) platform.getClass().getMethod("reservedRanges").invoke(platform);
        System.out.printf("{\"bench\":\"attach-resources\",\"when\":\"%s\",\"fds\":%d,\"maps\":%d,\"bookRanges\":%d,\"bookBytes\":%d,\"threads\":%d}%n",
            when, fds, maps, book.size(), book.stream().mapToLong(r -> r[1] - r[0]).sum(), Thread.activeCount());
    }

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        int perRound = Integer.parseInt(args[1]);
        String binary = args[2];
        String name = "/panmap-bench-attach-" + ProcessHandle.current().pid();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20))) {
            Process c = new ProcessBuilder(binary, name, Long.toString(region.regionSize()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                Attach a = new Attach(name, c);
                for (int v = 0; v < VARIANTS.length; v++) { // warm-up: C2 compiles the open and close paths
                    a.cycles(v, 2000);
                }
                List<String> lines = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    for (int k = 0; k < VARIANTS.length; k++) {
                        int v = (k + r) % VARIANTS.length;
                        lines.add("{\"bench\":\"attach\",\"variant\":\"" + VARIANTS[v] + "\",\"round\":" + r
                            + ",\"cycles_ns\":" + json(a.cycles(v, perRound)) + "}");
                    }
                }
                lines.forEach(System.out::println);
                a.longRun(1);
                a.longRun(3);
                a.steps(region, rounds * perRound);
            } finally {
                c.getOutputStream().close();
                c.waitFor();
            }
        } finally {
            SharedRegion.remove(name);
        }
    }
}
