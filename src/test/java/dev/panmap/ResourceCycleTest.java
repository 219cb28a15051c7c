package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: 10,000 create/open/close/remove cycles leak no descriptor, no mapping and no native
 * memory. The cycles run in a child JVM with native memory tracking; after a warm-up of 500 cycles
 * it measures its descriptors ({@code /proc/self/fd}), its mappings ({@code /proc/self/maps}, and
 * the part of them that is panmap's: the ranges in its {@code AddressBook}) and its malloc'd native
 * memory (the NMT summary, read with {@code jcmd} by the test while the child waits), and again at
 * the end.
 *
 * <p>Each cycle creates a region, attaches to it a second time (read-write; for DIRECT with the
 * offset fallback, since the creator holds the base in this very process), sometimes a third time
 * read-only, sometimes takes the writer lock, one cycle in four grows the region to twice its size
 * (room for four times kept from creation), closes everything and removes the region. Eight cycles
 * in ten are named shared-memory regions, OFFSET and DIRECT alike; two are file regions; four sizes
 * take turns, so that closed ranges are reused by regions of other sizes.
 */
@LinuxOnly
class ResourceCycleTest {
    static final int CYCLES = 10_000;
    static final int WARM_UP = 500;
    static final long[] SIZES = {4096, 64 * 1024, 12 * 1024, 1024 * 1024};

    @TempDir
    Path dir;

    /** One measurement the child printed: {@code MEASURE phase key=value ...}. */
    record Measure(String phase, Map<String, Long> values) {
        long get(String key) {
            Long v = values.get(key);
            if (v == null) {
                throw new AssertionError("no " + key + " in " + this);
            }
            return v;
        }

        static Measure parse(String line) {
            String[] words = line.trim().split("\\s+");
            Map<String, Long> values = new LinkedHashMap<>();
            for (int k = 2; k < words.length; k++) {
                int eq = words[k].indexOf('=');
                values.put(words[k].substring(0, eq), Long.parseLong(words[k].substring(eq + 1)));
            }
            return new Measure(words[1], values);
        }
    }

    @Test
    void tenThousandCyclesLeakNoDescriptorMappingOrNativeMemory() throws Exception {
        String prefix = Names.unique("rc") + "-";
        Map<String, Measure> measures = new LinkedHashMap<>();
        Map<String, String> descriptors = new LinkedHashMap<>();
        long started = System.nanoTime();
        try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-XX:NativeMemoryTracking=summary",
                // fewer moving parts in the child's own memory: no GC or compiler threads that come and go
                "-XX:+UseSerialGC", "-Xmx128m", "-XX:-UseDynamicNumberOfCompilerThreads"),
                Cycler.class, String.valueOf(CYCLES), String.valueOf(WARM_UP), prefix, dir.toString())) {
            while (true) {
                String line = child.awaitLine(l -> l.startsWith("MEASURE ") || l.startsWith("FDS ") || l.startsWith("DONE "), Duration.ofMinutes(10));
                if (line.startsWith("FDS ")) {
                    String[] phaseAndList = line.substring(4).split(" ", 2);
                    descriptors.put(phaseAndList[0], phaseAndList.length > 1 ? phaseAndList[1] : "");
                    continue;
                }
                if (line.startsWith("DONE ")) {
                    assertThat(line).isEqualTo("DONE " + CYCLES);
                    break;
                }
                Measure m = Measure.parse(line);
                Map<String, Long> values = new LinkedHashMap<>(m.values());
                values.putAll(nativeMemory(child.pid())); // the child waits for "go" meanwhile
                measures.put(m.phase(), new Measure(m.phase(), values));
                child.send("go");
            }
            assertThat(child.awaitExit(Duration.ofMinutes(1))).as("child exit; stderr " + child.stderr()).isZero();
        } finally {
            removeLeftovers(prefix);
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        Measure warm = measures.get("warm");
        Measure end = measures.get("end");
        System.out.println("ResourceCycleTest: " + CYCLES + " cycles in " + millis + " ms (child JVM and jcmd included)");
        measures.values().forEach(m -> System.out.println("  " + m.phase() + " " + m.values()));

        // Descriptors: every cycle opens two or three and must close them all. A leak on any path the
        // cycles take would show by the hundred (the rarest path, a file region with a read-only
        // attach, runs ~630 times after the warm-up). The one-descriptor slack is for the JVM, which
        // may open a file of its own lazily (a jar, a /proc file); panmap holds none between cycles.
        assertThat(end.get("fds")).as("open descriptors after the warm-up vs at the end; new at the end (first 20): "
                + newDescriptors(descriptors.get("warm"), descriptors.get("end"))).isLessThanOrEqualTo(warm.get("fds") + 1);

        // panmap's own address space: a closed region's range stays reserved (a read-only zero mapping,
        // see AddressBook), and later regions of its kind reuse it (OFFSET: first fit; DIRECT: the same
        // base), so what panmap holds is bounded by what was open at once. The default close gives
        // ranges back a batch at a time (CloseBatch: none is reused before its batch's arena closes),
        // so "open at once" includes a batch's closed regions, and first fit over a batch of mixed
        // sizes settles at a level that depends on where the system placed them (here 46.8 MB at cycle
        // 500, then 47.9 or 53.1 MB from cycle 2,500 or 5,000 on, flat to 10,000): the bytes may grow
        // by at most a batch of the largest spans. What may not stay at all is a live mapping: with
        // every region closed and the batch ended (measure does that), the book holds none.
        long largestSpan = 4 * SIZES[SIZES.length - 1] + 4096;
        assertThat(end.get("reservationBytes")).as("bytes in anonymous read-only mappings (panmap's reservations)")
            .isLessThanOrEqualTo(warm.get("reservationBytes") + dev.panmap.internal.CloseBatch.REGIONS * largestSpan);
        if (warm.values().containsKey("bookBytes")) { // the platform's own book, where it still shows it
            assertThat(end.get("bookBytes")).as("bytes panmap keeps reserved")
                .isLessThanOrEqualTo(warm.get("bookBytes") + dev.panmap.internal.CloseBatch.REGIONS * largestSpan);
            assertThat(end.get("liveMappings")).as("live mappings in panmap's book, every region closed").isZero();
            assertThat(warm.get("liveMappings")).as("live mappings in panmap's book, every region closed").isZero();
        }
        assertThat(end.get("regionMaps")).as("mappings of regions still there after their close").isZero();
        assertThat(warm.get("regionMaps")).as("mappings of regions still there after their close").isZero();

        // The whole process's mappings: the JVM's own come and go a little (code cache, metaspace
        // chunks, a thread stack), hence a slack of 8 areas; a per-cycle leak would be thousands.
        assertThat(end.get("maps")).as("/proc/self/maps areas after the warm-up vs at the end; lines new at the end (first 20): "
            + newLines(dir.resolve("maps-warm"), dir.resolve("maps-end"))).isLessThanOrEqualTo(warm.get("maps") + 8);

        // Native memory (NMT), malloc only (the mappings are counted above). "Other" is where the FFM
        // API's own allocations land (Arena.allocate, Unsafe.allocateMemory): it may grow by 4 KiB at
        // most, less than a byte a cycle. The rest but what the JVM mallocs as it loads classes and
        // compiles methods (which goes on for a while after 500 cycles: seen here, +160 blocks of class
        // metadata and +800 of compiled code's until about cycle 2,500, flat after) may grow by 64 KiB
        // and 100 blocks. A leaked block per cycle would be 9,500 blocks; even on the rarest path the
        // cycles take (a read-only attach of a file region, one cycle in 15) it would be 630.
        assertThat(end.get("nmtOther")).as("NMT Other (the FFM API's allocations), bytes").isLessThanOrEqualTo(warm.get("nmtOther") + 4096);
        assertThat(end.get("nmtMallocButJvm")).as("NMT malloc but class loading's and the JIT's, bytes")
            .isLessThanOrEqualTo(warm.get("nmtMallocButJvm") + 64 * 1024);
        assertThat(end.get("nmtMallocButJvmBlocks")).as("NMT malloc'd blocks but class loading's and the JIT's")
            .isLessThanOrEqualTo(warm.get("nmtMallocButJvmBlocks") + 100);
        // panmap starts no thread; the JVM's are fixed here (no dynamic compiler threads, serial GC)
        assertThat(end.get("threads")).as("threads (NMT)").isLessThanOrEqualTo(warm.get("threads"));
    }

    private static final Pattern TOTAL_MALLOC = Pattern.compile("^\\s*malloc: (\\d+) #(\\d+)", Pattern.MULTILINE);
    /** A category: its first line, then its indented lines, one of which may be {@code (malloc=BYTES tag=NAME #BLOCKS)}. */
    private static final Pattern CATEGORY = Pattern.compile("^-\\s+(.+?) \\(reserved=[^\\n]*\\n((?:[ \\t]+\\([^\\n]*\\n?)*)", Pattern.MULTILINE);
    private static final Pattern CATEGORY_MALLOC = Pattern.compile("\\(malloc=(\\d+) [^#)]*#(\\d+)");
    /**
     * What the JVM mallocs as it loads classes and compiles methods: class metadata, symbols, compiled
     * code's metadata, the compilers' own data and their pooled arena chunks. panmap allocates nothing
     * there; the FFM API's allocations land in "Other".
     */
    private static final Set<String> JVM_GROWTH = Set.of("Class", "Metaspace", "Symbol", "Code", "Compiler", "Arena Chunk");
    private static final Pattern THREADS = Pattern.compile("\\(threads #(\\d+)\\)");

    /**
     * {@return the child's malloc figures from {@code jcmd PID VM.native_memory summary scale=b}}: the
     * total, the FFM API's category ("Other") and everything but {@link #JVM_GROWTH}, in bytes and
     * blocks, and the number of threads
     */
    private static Map<String, Long> nativeMemory(long pid) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), "VM.native_memory", "summary", "scale=b")
            .redirectErrorStream(true).start();
        String nmt = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("jcmd: " + nmt).isZero();
        Matcher total = TOTAL_MALLOC.matcher(nmt);
        assertThat(total.find()).as("a malloc total in the NMT summary:\n" + nmt).isTrue();
        long other = -1;
        long jvmBytes = 0;
        long jvmBlocks = 0;
        Matcher c = CATEGORY.matcher(nmt);
        while (c.find()) {
            Matcher m = CATEGORY_MALLOC.matcher(c.group(2));
            if (!m.find()) {
                continue; // no malloc in this category
            }
            String category = c.group(1).trim();
            if (category.equals("Other")) {
                other = Long.parseLong(m.group(1));
            }
            if (JVM_GROWTH.contains(category)) {
                jvmBytes += Long.parseLong(m.group(1));
                jvmBlocks += Long.parseLong(m.group(2));
            }
        }
        assertThat(other).as("the Other category in the NMT summary:\n" + nmt).isNotNegative();
        long bytes = Long.parseLong(total.group(1));
        long blocks = Long.parseLong(total.group(2));
        Matcher threads = THREADS.matcher(nmt);
        assertThat(threads.find()).as("a thread count in the NMT summary:\n" + nmt).isTrue();
        Map<String, Long> figures = new LinkedHashMap<>();
        figures.put("threads", Long.parseLong(threads.group(1)));
        figures.put("nmtMalloc", bytes);
        figures.put("nmtMallocBlocks", blocks);
        figures.put("nmtMallocButJvm", bytes - jvmBytes);
        figures.put("nmtMallocButJvmBlocks", blocks - jvmBlocks);
        figures.put("nmtOther", other);
        return figures;
    }

    /** {@return the {@code fd=target} entries of {@code end} that {@code warm} does not have, the first 20} */
    private static List<String> newDescriptors(String warm, String end) {
        Set<String> before = Set.copyOf(java.util.Arrays.asList(warm.trim().split(" ")));
        return java.util.Arrays.stream(end.trim().split(" ")).filter(e -> !before.contains(e)).limit(20).toList();
    }

    /** {@return the lines of file {@code end} that file {@code warm} does not have, the first 20} */
    private static List<String> newLines(Path warm, Path end) throws IOException {
        Set<String> before = Set.copyOf(Files.readAllLines(warm));
        return Files.readAllLines(end).stream().filter(l -> !before.contains(l)).limit(20).toList();
    }

    private static void removeLeftovers(String prefix) throws IOException {
        try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
            for (Path p : shm.filter(p -> ("/" + p.getFileName()).startsWith(prefix)).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * The child: runs the cycles and prints {@code MEASURE} lines, after each of which it waits for a
     * line {@code go}. Args: cycles, warm-up, shm name prefix, directory.
     */
    public static final class Cycler {
        private static final long STARTED = System.nanoTime();
        /** An anonymous, private, read-only mapping: {@code start-end r--p 00000000 00:00 0}. */
        private static final Pattern RESERVATION = Pattern.compile("\\S+ r--p 0+ 00:00 0\\s*");
        private static final BufferedReader IN = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

        public static void main(String[] args) throws Exception {
            int cycles = Integer.parseInt(args[0]);
            int warmUp = Integer.parseInt(args[1]);
            String prefix = args[2];
            Path dir = Path.of(args[3]);
            Platform platform = Platforms.current();
            measure("prime", platform, prefix, dir); // loads what measuring needs before the first real figure
            for (int i = 0; i < cycles; i++) {
                cycle(i, prefix, dir);
                if (i + 1 == warmUp) {
                    measure("warm", platform, prefix, dir);
                } else if ((i + 1) % 2500 == 0 && i + 1 < cycles) {
                    measure("at" + (i + 1), platform, prefix, dir);
                }
            }
            measure("end", platform, prefix, dir);
            System.out.println("DONE " + cycles);
        }

        static void cycle(int i, String prefix, Path dir) {
            int kind = i % 10;
            boolean file = kind >= 8;
            boolean direct = file ? kind == 9 : kind % 2 == 1;
            long size = SIZES[(i / 10) % SIZES.length];
            boolean grows = i % 4 == 2;
            RegionOptions options = RegionOptions.defaults().size(size).addressing(direct ? Addressing.DIRECT : Addressing.OFFSET)
                .maxSize(grows ? 4 * size : 0);
            RegionOptions attach = RegionOptions.defaults().allowOffsetFallback(true); // the creator holds the DIRECT base here
            String name = prefix + i;
            Path path = dir.resolve("rc-" + i);
            try {
                try (SharedRegion created = file ? SharedRegion.openFile(path, OpenMode.CREATE_ONLY, options) : SharedRegion.create(name, options);
                     SharedRegion second = file ? SharedRegion.openFile(path, OpenMode.OPEN_ONLY, attach) : SharedRegion.open(name, OpenMode.OPEN_ONLY, attach)) {
                    created.segment().set(ValueLayout.JAVA_LONG, size - 8, i);
                    check(second.segment().get(ValueLayout.JAVA_LONG, size - 8) == i, "the second attach sees the write", i);
                    check(second.isOffsetFallback() == direct, "a DIRECT region attached twice in one process falls back", i);
                    if (i % 3 == 0) {
                        try (SharedRegion reader = file ? SharedRegion.openFile(path, OpenMode.OPEN_READ_ONLY, attach)
                                : SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, attach)) {
                            check(reader.segment().get(ValueLayout.JAVA_LONG, size - 8) == i, "the reader sees the write", i);
                        }
                    }
                    if (i % 5 == 0) {
                        try (var held = second.writerLock().hold()) {
                            created.segment().set(ValueLayout.JAVA_LONG, 0, i);
                        }
                    }
                    if (grows) { // in place, inside the span kept since the first mapping; the other handle maps the new part
                        created.grow(2 * size);
                        created.segment().set(ValueLayout.JAVA_LONG, 2 * size - 8, i);
                        check(second.segment().byteSize() == 2 * size && second.segment().get(ValueLayout.JAVA_LONG, 2 * size - 8) == i,
                            "the second attach sees the grown part", i);
                    }
                }
            } finally {
                if (file) {
                    SharedRegion.removeFile(path);
                } else {
                    SharedRegion.remove(name);
                }
            }
        }

        private static void check(boolean ok, String what, int cycle) {
            if (!ok) {
                throw new AssertionError("cycle " + cycle + ": " + what);
            }
        }

        /**
         * {@return the platform's book of reserved ranges, as {start, end, kind}, or null where it has no
         * {@code reservedRanges()}} (a test hook of the POSIX backend, looked up by name so that this
         * test outlives a change of it; the anonymous read-only mappings in /proc/self/maps are counted
         * either way)
         */
        @SuppressWarnings("unchecked")
        static List<long[]> book(Platform platform) throws ReflectiveOperationException {
            try {
                return (List<long[]>) platform.getClass().getMethod("reservedRanges").invoke(platform);
            } catch (NoSuchMethodException e) {
                return null;
            }
        }

        /** {@return how many live mappings the POSIX backend's book holds (its test hook, looked up by name)} */
        static long liveMappings(Platform platform) throws ReflectiveOperationException {
            return ((Number) platform.getClass().getMethod("liveMappingCount").invoke(platform)).longValue();
        }

        static void measure(String phase, Platform platform, String prefix, Path dir) throws Exception {
            // closed regions' ranges are given back a batch at a time (CloseBatch): count at a batch's end
            dev.panmap.internal.CloseBatch.endCurrent();
            long fds = 0;
            StringBuilder targets = new StringBuilder();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
                for (Path fd : entries) {
                    fds++;
                    String target;
                    try {
                        target = Files.readSymbolicLink(fd).toString();
                    } catch (IOException gone) { // the directory stream's own descriptor, closed by now, or a race
                        target = "?";
                    }
                    targets.append(' ').append(fd.getFileName()).append('=').append(target.replace(' ', '_'));
                }
            }
            System.out.println("FDS " + phase + targets);
            List<long[]> book = book(platform);
            List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
            Files.write(dir.resolve("maps-" + phase), maps); // for the test's message
            long panmapMaps = 0;
            long regionMaps = 0;
            long reservationMaps = 0;
            long reservationBytes = 0;
            // mappings as the kernel lists them: it merges adjacent anonymous ones of equal permissions
            // into one area, where QEMU user mode (the arm64 environment) lists each mmap call's part
            // alone, and the JVM's small mmaps (malloc arenas, NMT's) added ~230 such lines there
            long areas = 0;
            long lastEnd = -1;
            String lastAnonymousPermissions = null;
            for (String line : maps) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                long from = Long.parseUnsignedLong(line, 0, dash, 16);
                long to = Long.parseUnsignedLong(line, dash + 1, space, 16);
                String[] fields = line.trim().split("\\s+", 6);
                String anonymousPermissions = fields.length < 6 && "0".equals(fields[4]) ? fields[1] : null;
                if (anonymousPermissions == null || from != lastEnd || !anonymousPermissions.equals(lastAnonymousPermissions)) {
                    areas++;
                }
                lastEnd = to;
                lastAnonymousPermissions = anonymousPermissions;
                if (book != null && book.stream().anyMatch(r -> r[0] < to && from < r[1])) {
                    panmapMaps++;
                }
                if (RESERVATION.matcher(line).matches()) { // panmap's zero reservations look like this (and the JVM's polling page)
                    reservationMaps++;
                    reservationBytes += to - from;
                }
                if (line.contains("/dev/shm" + prefix) || line.contains(dir.toString())) {
                    regionMaps++;
                }
            }
            System.out.println("MEASURE " + phase + " fds=" + fds + " maps=" + areas + " mapsLines=" + maps.size() + " regionMaps=" + regionMaps
                + " reservationMaps=" + reservationMaps + " reservationBytes=" + reservationBytes
                + (book == null ? "" : " panmapMaps=" + panmapMaps + " bookRanges=" + book.size() + " liveMappings=" + liveMappings(platform)
                    + " bookBytes=" + book.stream().mapToLong(r -> r[1] - r[0]).sum())
                + " ms=" + (System.nanoTime() - STARTED) / 1_000_000);
            String go = IN.readLine(); // the test reads our native memory with jcmd meanwhile
            if (!"go".equals(go)) {
                throw new IllegalStateException("expected go, read " + go);
            }
        }
    }
}
