package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.internal.RegionLayout;
import dev.panmap.testing.LinuxOnly;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, "never a SIGBUS, never a JVM crash": seeded, reproducible mutations of real region
 * headers, each written to a file and opened. Every open either succeeds with sizes that agree with
 * the file (and its first and last data byte read back as written), or is refused with a
 * {@link RegionException} that says why; a refused file, and any file opened read-only or
 * copy-on-write, is left byte for byte as it was written. Never another exception, never a hang.
 *
 * <p>The fields come from {@link RegionLayout}'s public {@code *_OFFSET} constants by reflection and
 * their widths from the distance to the next one, so the fuzzer follows the layout when it changes;
 * what must be refused is decided from the mutated bytes (magic, version, whether the stored
 * checksum matches {@link RegionLayout#checksum}), not from a list of offsets.
 *
 * <p>Mutation {@code i} uses seed {@code FIRST_SEED + i}, printed in every failure. Replay one:
 * {@code mvn -o test -Dtest=HeaderFuzzTest -Dpanmap.fuzz.from=SEED -Dpanmap.fuzz.count=1}. Should the
 * JVM die, {@code target/HeaderFuzzTest.last-seed} names the mutation that was being opened.
 */
@LinuxOnly
class HeaderFuzzTest {
    /** The default first seed (issue 13); {@code -Dpanmap.fuzz.from} changes it. */
    private static final long DEFAULT_FIRST_SEED = 0x13_0000_0000L;
    private static final long FIRST_SEED = Long.getLong("panmap.fuzz.from", DEFAULT_FIRST_SEED);
    private static final int COUNT = Integer.getInteger("panmap.fuzz.count", 10_000);
    /** Not a timing assertion: only a hang detector, generous for a loaded 2-core machine. */
    private static final Duration HANG = Duration.ofSeconds(60);
    /** A data area of a few pages: enough for first and last bytes apart from the header, cheap to rewrite 10,000 times. */
    private static final long DATA_SIZE = 16 * 1024;
    private static final int MAX_FAILURES_SHOWN = 25;
    /**
     * The address space one open may leave behind (VmSize): a closed region's range stays reserved for
     * the life of the process (see {@code AddressBook}), which here is tens of KiB; a forged size or
     * growth span that panmap honoured would instead take address space the JVM needs to live. The
     * JVM's own growth meanwhile (a malloc arena, a metaspace chunk, a thread stack) stays far below.
     */
    private static final long ADDRESS_SPACE_PER_OPEN = 1L << 30;
    /** The same for the whole run: the forged DIRECT bases that map leave a reservation each. */
    private static final long ADDRESS_SPACE_PER_RUN = 16L << 30;

    @TempDir
    Path dir;

    private long page;
    private ExecutorService opener;
    private FileChannel lastSeed;

    /** A real region's file as its creator left it. */
    record Original(String label, byte[] bytes, long headerSize, long regionSize, int capacity, Addressing addressing) {}

    /** A header field: its constant's name, offset and width (1, 2, 4 or 8 bytes). */
    record Field(String name, int offset, int width) {}

    /** A mutated file and what was done to it. */
    record Mutation(char kind, String description, byte[] bytes) {}

    /** What an open of the mutated file must do. */
    record Expectation(boolean mustOpen, Set<ErrorKind> refusedAs, String why) {
        static Expectation refused(String why, ErrorKind first, ErrorKind... rest) {
            return new Expectation(false, EnumSet.of(first, rest), why);
        }
    }

    /** What one open did; {@code problem} is non-null when it broke a promise. */
    record Outcome(boolean opened, ErrorKind kind, String problem) {}

    @BeforeEach
    void setUp() throws IOException {
        page = Platforms.current().pageSize();
        opener = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "header-fuzz-opener");
            t.setDaemon(true);
            return t;
        });
        Path target = Path.of("target");
        Path marker = (Files.isDirectory(target) ? target : dir).resolve("HeaderFuzzTest.last-seed");
        lastSeed = FileChannel.open(marker, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    @AfterEach
    void tearDown() throws IOException {
        opener.shutdownNow();
        lastSeed.close();
    }

    @Test
    void mutatedHeadersOpenConsistentlyOrAreRefusedAndTheFileIsLeftAsItWas() throws Exception {
        List<Original> originals = List.of(
            original("offset", Addressing.OFFSET, RegionLayout.DEFAULT_ATTACH_CAPACITY),
            original("direct", Addressing.DIRECT, RegionLayout.DEFAULT_ATTACH_CAPACITY),
            original("offset-2-page-header", Addressing.OFFSET, attachCapacityForHeaderPages(2)),
            original("direct-2-page-header", Addressing.DIRECT, attachCapacityForHeaderPages(2)));
        Path file = dir.resolve("fuzzed.region");
        List<String> failures = new ArrayList<>();
        Map<String, Integer> refusedByKind = new TreeMap<>();
        Map<Character, int[]> byClass = new TreeMap<>(); // class -> {mutations, opened read-only}
        int opened = 0;
        int refused = 0;
        int opens = 0;
        int readWrite = 0;
        int copyOnWrite = 0;
        int mutations = 0;
        long started = System.nanoTime();
        long addressSpaceBefore = addressSpace();
        for (int i = 0; i < COUNT; i++) {
            long seed = FIRST_SEED + i;
            markSeed(seed);
            SplittableRandom rng = new SplittableRandom(seed);
            Original original = originals.get(rng.nextInt(originals.size()));
            Mutation m = mutate(original, rng);
            String context = "seed 0x" + Long.toHexString(seed) + " [" + m.kind() + "] on " + original.label() + ": " + m.description();
            Expectation expected = expect(m.bytes(), original);
            byClass.computeIfAbsent(m.kind(), k -> new int[2])[0]++;
            mutations++;

            write(file, m.bytes());
            FileTime modified = Files.getLastModifiedTime(file);
            Outcome ro = attempt(file, OpenMode.OPEN_READ_ONLY, options(m.bytes(), false), m.bytes(), expected, context);
            opens++;
            if (ro.opened()) {
                opened++;
                byClass.get(m.kind())[1]++;
            } else if (ro.kind() != null) {
                refused++;
                refusedByKind.merge(ro.kind().name(), 1, Integer::sum);
            }
            String unchanged = unchanged(file, m.bytes(), modified, "read-only open");
            record(failures, context, ro.problem(), unchanged);
            if (unchanged != null) {
                write(file, m.bytes());
            }
            if (rng.nextInt(8) == 0) { // copy-on-write: writes stay private, the file never changes
                copyOnWrite++;
                opens++;
                Outcome cow = attempt(file, OpenMode.OPEN_COPY_ON_WRITE, options(m.bytes(), false), m.bytes(), expected, context);
                record(failures, context, cow.problem(), unchanged(file, m.bytes(), null, "copy-on-write open"));
                write(file, m.bytes());
            }
            if (rng.nextInt(4) == 0) { // read-write with the offset fallback: may attach (and so write), else must not write
                readWrite++;
                opens++;
                Outcome rw = attempt(file, OpenMode.OPEN_ONLY, options(m.bytes(), true), m.bytes(), expected, context);
                record(failures, context, rw.problem(), rw.opened() ? null : unchanged(file, m.bytes(), null, "refused read-write open"));
            }
            if (failures.size() > 200) {
                break; // the list is long enough to act on
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        long addressSpaceGrowth = addressSpace() - addressSpaceBefore;
        if (addressSpaceGrowth > ADDRESS_SPACE_PER_RUN) {
            failures.add("the fuzzing left " + (addressSpaceGrowth >> 20) + " MiB more address space taken (VmSize), more than "
                + (ADDRESS_SPACE_PER_RUN >> 20) + " MiB: the failures above with 'address space' name the opens that took most");
        }
        String perClass = byClass.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue()[0] + "/" + e.getValue()[1] + " opened").collect(Collectors.joining(", "));
        System.out.println("HeaderFuzzTest: " + mutations + " mutations from seed 0x" + Long.toHexString(FIRST_SEED) + ", " + opens
            + " opens (" + readWrite + " read-write, " + copyOnWrite + " copy-on-write); read-only: opened " + opened + ", refused "
            + refused + " " + refusedByKind + "; by class " + perClass + "; address space " + (addressSpaceGrowth >= 0 ? "+" : "")
            + (addressSpaceGrowth >> 10) + " KiB; " + failures.size() + " failures; " + millis + " ms");
        assertThat(failures).as(failures.size() + " broken promises (first " + MAX_FAILURES_SHOWN + " shown):\n"
            + String.join("\n\n", failures.subList(0, Math.min(MAX_FAILURES_SHOWN, failures.size())))).isEmpty();
    }

    // ------------------------------------------------------------------ the originals

    /** {@return the smallest attach capacity whose header takes {@code pages} pages} */
    private int attachCapacityForHeaderPages(int pages) {
        int capacity = 1;
        while (RegionLayout.headerSize(capacity, page) < pages * page) {
            capacity++;
        }
        return capacity;
    }

    private Original original(String label, Addressing addressing, int capacity) throws IOException {
        Path file = dir.resolve("original-" + label);
        RegionOptions options = RegionOptions.defaults().size(DATA_SIZE).addressing(addressing).maxAttached(capacity);
        long headerSize;
        long regionSize;
        try (SharedRegion r = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, options)) {
            MemorySegment data = r.segment();
            for (long at = 0; at < data.byteSize(); at += 8) { // recognisable data: first and last bytes are checked after each open
                data.set(ValueLayout.JAVA_LONG, at, 0x5EED_0000_0000_0000L ^ at);
            }
            data.set(ValueLayout.JAVA_BYTE, data.byteSize() - 1, (byte) 0x7F);
            headerSize = r.dataOffset();
            regionSize = r.regionSize();
        }
        byte[] bytes = Files.readAllBytes(file);
        assertThat((long) bytes.length).isEqualTo(regionSize);
        Files.delete(file);
        return new Original(label, bytes, headerSize, regionSize, capacity, addressing);
    }

    // ------------------------------------------------------------------ the layout, by reflection

    /**
     * {@return the header's fields: every public {@code *_OFFSET} constant of {@link RegionLayout}
     * (slot-relative {@code SLOT_*} ones placed in the first and last attach slot), each as wide as the
     * distance to the next field allows, up to 8 bytes and aligned}
     */
    private final Map<String, List<Field>> fieldsByOriginal = new java.util.HashMap<>();

    private List<Field> fields(Original o) {
        return fieldsByOriginal.computeIfAbsent(o.label(), k -> List.copyOf(layoutFields(o)));
    }

    static List<Field> layoutFields(Original o) {
        TreeMap<Long, String> byOffset = new TreeMap<>();
        Map<String, Long> slotRelative = new LinkedHashMap<>();
        for (java.lang.reflect.Field f : RegionLayout.class.getFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isStatic(mod) || !Modifier.isFinal(mod) || !f.getName().endsWith("_OFFSET")
                || (f.getType() != int.class && f.getType() != long.class)) {
                continue;
            }
            long value;
            try {
                value = ((Number) f.get(null)).longValue();
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
            if (f.getName().startsWith("SLOT_")) {
                slotRelative.put(f.getName(), value);
            } else {
                byOffset.merge(value, f.getName(), (a, b) -> a + "=" + b);
            }
        }
        for (int slot : new int[] {0, o.capacity() - 1}) {
            for (var e : slotRelative.entrySet()) {
                byOffset.merge(RegionLayout.slotOffset(slot) + e.getValue(), "slot[" + slot + "]." + e.getKey(), (a, b) -> a + "=" + b);
            }
        }
        List<Field> fields = new ArrayList<>();
        for (var e : byOffset.entrySet()) {
            long offset = e.getKey();
            if (offset < 0 || offset >= o.headerSize()) {
                continue;
            }
            Long next = byOffset.higherKey(offset);
            long room = (next == null ? o.headerSize() : next) - offset;
            int width = 8;
            while (width > 1 && (width > room || offset % width != 0)) {
                width /= 2;
            }
            fields.add(new Field(e.getValue(), (int) offset, width));
        }
        return fields;
    }

    /** {@return the offset of a {@link RegionLayout} constant, if the layout still has it} */
    static OptionalInt offsetOf(String name) {
        try {
            return OptionalInt.of(((Number) RegionLayout.class.getField(name).get(null)).intValue());
        } catch (NoSuchFieldException | IllegalAccessException e) {
            return OptionalInt.empty();
        }
    }

    private static Field field(List<Field> fields, String name) {
        return fields.stream().filter(f -> f.name().equals(name) || f.name().startsWith(name + "=") || f.name().endsWith("=" + name))
            .findFirst().orElse(null);
    }

    private static String fieldAt(List<Field> fields, long position) {
        String name = "padding";
        for (Field f : fields) {
            if (position >= f.offset()) {
                name = position < f.offset() + f.width() ? f.name() : f.name() + "+" + (position - f.offset());
            }
        }
        return name;
    }

    static long get(byte[] b, int offset, int width) {
        long v = 0;
        for (int k = width - 1; k >= 0; k--) {
            v = (v << 8) | (b[offset + k] & 0xFF);
        }
        return v;
    }

    static void put(byte[] b, int offset, int width, long value) {
        for (int k = 0; k < width; k++) {
            b[offset + k] = (byte) (value >>> (8 * k));
        }
    }

    /** Stores the checksum a creator would have written over the mutated bytes. */
    static void reseal(byte[] b) {
        int crc = RegionLayout.checksum(MemorySegment.ofArray(b));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(RegionLayout.CHECKSUM_OFFSET, crc);
    }

    static boolean checksumMatches(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(RegionLayout.CHECKSUM_OFFSET)
            == RegionLayout.checksum(MemorySegment.ofArray(b));
    }

    // ------------------------------------------------------------------ mutations

    private Mutation mutate(Original o, SplittableRandom rng) {
        int roll = rng.nextInt(100);
        if (roll < 25) {
            return flips(o, rng);
        } else if (roll < 45) {
            return fieldValue(o, rng, false);
        } else if (roll < 75) {
            return rng.nextInt(4) == 0 ? consistentForgery(o, rng) : fieldValue(o, rng, true);
        } else if (roll < 90) {
            return length(o, rng);
        }
        return magicOrVersion(o, rng);
    }

    /** (a) random bit or byte flips anywhere in the header page(s), most of them among the fields. */
    private Mutation flips(Original o, SplittableRandom rng) {
        byte[] b = o.bytes().clone();
        List<Field> fields = fields(o);
        int n = rng.nextInt(10) == 0 ? 1 + rng.nextInt(64) : 1 + rng.nextInt(4);
        StringBuilder d = new StringBuilder("flips");
        for (int k = 0; k < n; k++) {
            int where = rng.nextInt(3);
            int limit = where == 0 ? (int) o.headerSize() : where == 1 ? RegionLayout.MIN_HEADER_SIZE : RegionLayout.CHECKSUM_OFFSET + 4;
            int at = rng.nextInt(limit);
            int mask = rng.nextBoolean() ? 1 << rng.nextInt(8) : 1 + rng.nextInt(255);
            b[at] ^= (byte) mask;
            d.append(' ').append(at).append('(').append(fieldAt(fields, at)).append(")^0x").append(Integer.toHexString(mask));
        }
        return new Mutation('a', d.toString(), b);
    }

    /** (b) and (c): one field set to an interesting value, with the checksum left stale or recomputed. */
    private Mutation fieldValue(Original o, SplittableRandom rng, boolean resealed) {
        byte[] b = o.bytes().clone();
        List<Field> fields = new ArrayList<>(fields(o));
        if (resealed) { // resealing would undo a change of the checksum itself
            fields.removeIf(f -> f.offset() == RegionLayout.CHECKSUM_OFFSET);
        }
        Field f = fields.get(rng.nextInt(fields.size()));
        long current = get(b, f.offset(), f.width());
        long[] values = interesting(o, current, rng);
        long value = values[rng.nextInt(values.length)];
        put(b, f.offset(), f.width(), value);
        if (resealed) {
            reseal(b);
        }
        return new Mutation(resealed ? 'c' : 'b', f.name() + "@" + f.offset() + "/" + f.width() + " := 0x"
            + Long.toHexString(get(b, f.offset(), f.width())) + " (was 0x" + Long.toHexString(current) + ")"
            + (resealed ? ", checksum recomputed" : ", checksum stale"), b);
    }

    private long[] interesting(Original o, long current, SplittableRandom rng) {
        long huge = 1L << 40;
        return new long[] {
            0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xFFFF_FFFFL, 1L << 31, 1L << 32,
            page - 1, page, page + 1, 2 * page, 16 * page,
            current + 1, current - 1, current + page, current - page, current * 2, current / 2, current ^ (1L << rng.nextInt(64)),
            Long.reverseBytes(current), huge, huge + page,
            Long.MAX_VALUE - page + 1, Long.MAX_VALUE & -page, 1L << 62, (1L << 63) - o.headerSize(), -page, -o.headerSize(),
            o.bytes().length + page, o.regionSize() + page, o.regionSize() - page, o.regionSize() - o.headerSize(), // sizes
            current + page / 2, 0x6000_0000_0000L + 1,                                                        // misaligned bases
            0x8000_0000_0000_0000L, 0xFFFF_8000_0000_0000L, 0xFFFF_FFFF_FFFF_F000L,                           // kernel half
            1L << 47, (1L << 47) - page, (1L << 47) - o.regionSize(), 1L << 46, 1L << 56,                     // the top of user space
            RegionLayout.LAYOUT_VERSION - 1, RegionLayout.LAYOUT_VERSION + 1, 3, 100,                          // versions
            RegionLayout.MAX_ATTACH_CAPACITY, RegionLayout.MAX_ATTACH_CAPACITY + 1, o.capacity() + 1,         // capacities
            RegionLayout.ADDRESSING_OFFSET_MODE, RegionLayout.ADDRESSING_DIRECT_MODE, 2,                        // addressing codes
            rng.nextLong(), rng.nextLong() & -page & ((1L << 47) - 1),
        };
    }

    /**
     * (c) a forgery that keeps the sums right: the data size with a region size that matches it, or an
     * attach capacity with the header size and region size that match it, checksum recomputed. Only
     * the file's length and the mapping can then tell. Uses the size fields by name where the layout
     * still has them, else falls back to a single field.
     */
    private Mutation consistentForgery(Original o, SplittableRandom rng) {
        OptionalInt regionSize = offsetOf("REGION_SIZE_OFFSET");
        OptionalInt dataSize = offsetOf("DATA_SIZE_OFFSET");
        OptionalInt headerSize = offsetOf("HEADER_SIZE_OFFSET");
        OptionalInt capacity = offsetOf("ATTACH_CAPACITY_OFFSET");
        if (regionSize.isEmpty() || dataSize.isEmpty()) {
            return fieldValue(o, rng, true);
        }
        List<Field> fields = fields(o);
        Field rs = fields.stream().filter(f -> f.offset() == regionSize.getAsInt()).findFirst().orElseThrow();
        Field ds = fields.stream().filter(f -> f.offset() == dataSize.getAsInt()).findFirst().orElseThrow();
        byte[] b = o.bytes().clone();
        long data = o.regionSize() - o.headerSize();
        long header = o.headerSize();
        String d;
        if (rng.nextBoolean() || headerSize.isEmpty() || capacity.isEmpty()) {
            long[] sizes = {page, data - page, data + page, 1L << 31, 1L << 32, 1L << 40, Long.MAX_VALUE & -page,
                (Long.MAX_VALUE & -page) - header + page, (o.bytes().length - header) & -page, 1L << 62, -page};
            data = sizes[rng.nextInt(sizes.length)];
            d = "data size := " + data;
        } else {
            Field hs = fields.stream().filter(f -> f.offset() == headerSize.getAsInt()).findFirst().orElseThrow();
            Field cap = fields.stream().filter(f -> f.offset() == capacity.getAsInt()).findFirst().orElseThrow();
            int[] capacities = {1, o.capacity() / 2 + 1, o.capacity() * 2, o.capacity() * 8, RegionLayout.MAX_ATTACH_CAPACITY};
            int c = capacities[rng.nextInt(capacities.length)];
            header = RegionLayout.headerSize(c, page);
            put(b, cap.offset(), cap.width(), c);
            put(b, hs.offset(), hs.width(), header);
            d = "attach capacity := " + c + ", header size := " + header;
        }
        put(b, ds.offset(), ds.width(), data);
        put(b, rs.offset(), rs.width(), header + data); // wraps where the sum overflows, as a forger's would
        reseal(b);
        return new Mutation('c', "consistent forgery: " + d + ", region size := " + (header + data) + ", checksum recomputed", b);
    }

    /** (d) the file truncated (inside the header, inside the data) or extended. */
    private Mutation length(Original o, SplittableRandom rng) {
        int header = (int) o.headerSize();
        int region = (int) o.regionSize();
        int min = RegionLayout.MIN_HEADER_SIZE;
        int[] lengths = {0, 1, 7, 8, rng.nextInt(min), min - 1, min, min + rng.nextInt(header - min), header - 1, header,
            header + 1, header + rng.nextInt(region - header), region - (int) page, region - 1,
            region + 1, region + (int) page, region + rng.nextInt(64 * 1024) + 1};
        int length = lengths[rng.nextInt(lengths.length)];
        byte[] b = Arrays.copyOf(o.bytes(), length);
        boolean junk = length > region && rng.nextBoolean();
        if (junk) {
            for (int k = region; k < length; k++) {
                b[k] = (byte) rng.nextInt();
            }
        }
        String what = length < header ? "truncated inside the header" : length < region ? "truncated inside the data" : length == region ? "whole" : "extended";
        return new Mutation('d', what + ": " + length + " of " + region + " bytes" + (junk ? ", tail of random bytes" : ""), b);
    }

    /** (e) the magic or the layout version changed; a zeroed magic as a creator that died or is still writing would leave it. */
    private Mutation magicOrVersion(Original o, SplittableRandom rng) {
        byte[] b = o.bytes().clone();
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        String d;
        if (rng.nextBoolean()) {
            long[] magics = {0, Long.reverseBytes(RegionLayout.MAGIC), RegionLayout.MAGIC ^ (1L << rng.nextInt(64)), ~RegionLayout.MAGIC,
                rng.nextLong(), RegionLayout.MAGIC + 1, -1};
            long magic = magics[rng.nextInt(magics.length)];
            buf.putLong(RegionLayout.MAGIC_OFFSET, magic);
            d = "magic := 0x" + Long.toHexString(magic);
            OptionalInt creator = offsetOf("CREATOR_PID_OFFSET");
            if (magic == 0 && creator.isPresent()) {
                int[] pids = {0, (int) ProcessHandle.current().pid(), Integer.MAX_VALUE - 7 /* above any pid_max: dead */, -1};
                int pid = pids[rng.nextInt(pids.length)];
                buf.putInt(creator.getAsInt(), pid);
                d += ", creator pid := " + pid;
            }
        } else {
            int[] versions = {RegionLayout.LAYOUT_VERSION - 1, RegionLayout.LAYOUT_VERSION + 1, 0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE,
                Integer.reverseBytes(RegionLayout.LAYOUT_VERSION), rng.nextInt()};
            int version = versions[rng.nextInt(versions.length)];
            buf.putInt(RegionLayout.VERSION_OFFSET, version);
            d = "version := " + version;
        }
        boolean resealed = rng.nextBoolean();
        if (resealed) {
            reseal(b);
        }
        return new Mutation('e', d + (resealed ? ", checksum recomputed" : ", checksum stale"), b);
    }

    // ------------------------------------------------------------------ what must happen

    /**
     * Decided from the bytes alone: too short, another magic, another version or a stale checksum must
     * be refused (with the kind the README gives); bytes changed only in the header's padding past the
     * attach table, with the file still long enough, must open; anything else may go either way, and
     * the open's own consistency decides.
     */
    private Expectation expect(byte[] b, Original o) {
        if (b.length == 0) {
            return Expectation.refused("an empty file", ErrorKind.INCOMPATIBLE_REGION);
        }
        if (b.length < RegionLayout.MIN_HEADER_SIZE) {
            return Expectation.refused("shorter than the smallest header", ErrorKind.CORRUPT_REGION);
        }
        long magic = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(RegionLayout.MAGIC_OFFSET);
        if (magic == 0) {
            return Expectation.refused("magic 0 (creation never finished)", ErrorKind.INCOMPATIBLE_REGION, ErrorKind.CORRUPT_REGION);
        }
        if (magic != RegionLayout.MAGIC) {
            return Expectation.refused("another magic", ErrorKind.INCOMPATIBLE_REGION);
        }
        int version = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(RegionLayout.VERSION_OFFSET);
        boolean sealed = checksumMatches(b);
        if (version != RegionLayout.LAYOUT_VERSION) {
            return sealed ? Expectation.refused("another layout version", ErrorKind.INCOMPATIBLE_REGION)
                : Expectation.refused("another layout version and a stale checksum", ErrorKind.INCOMPATIBLE_REGION, ErrorKind.CORRUPT_REGION);
        }
        if (!sealed) {
            return Expectation.refused("a stale checksum", ErrorKind.CORRUPT_REGION);
        }
        long paddingFrom = RegionLayout.slotOffset(o.capacity());
        boolean onlyPadding = b.length >= o.regionSize();
        for (int k = 0; k < o.regionSize() && onlyPadding; k++) {
            onlyPadding = b[k] == o.bytes()[k] || (k >= paddingFrom && k < o.headerSize());
        }
        if (onlyPadding) {
            return new Expectation(true, Set.of(), "only the header's padding changed, the file is long enough");
        }
        return new Expectation(false, Set.of(), "either");
    }

    private RegionOptions options(byte[] b, boolean fallback) {
        boolean unpublished = b.length < 8 || ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(RegionLayout.MAGIC_OFFSET) == 0;
        // a header with magic 0 looks like a creation in progress: do not wait for a creator that never comes
        return RegionOptions.defaults().attachTimeout(unpublished ? Duration.ZERO : Duration.ofMillis(50)).allowOffsetFallback(fallback);
    }

    // ------------------------------------------------------------------ opening

    /** Opens on the opener thread, so that a hang is reported with the seed and the opener's stack. */
    private Outcome attempt(Path file, OpenMode mode, RegionOptions options, byte[] written, Expectation expected, String context)
            throws Exception {
        long before = addressSpace();
        Future<Outcome> f = opener.submit(() -> open(file, mode, options, written, expected));
        try {
            Outcome outcome = f.get(HANG.toMillis(), TimeUnit.MILLISECONDS);
            long taken = addressSpace() - before;
            if (taken > ADDRESS_SPACE_PER_OPEN) {
                String problem = mode + (outcome.opened() ? " opened and closed" : " was refused") + " but left " + (taken >> 20)
                    + " MiB more address space taken (VmSize)";
                return new Outcome(outcome.opened(), outcome.kind(), outcome.problem() == null ? problem : outcome.problem() + "; and " + problem);
            }
            return outcome;
        } catch (TimeoutException e) {
            Thread stuck = findThread("header-fuzz-opener");
            throw new AssertionError(context + ": " + mode + " did not return within " + HANG + " (hang); opener stack:\n"
                + (stuck == null ? "?" : Arrays.stream(stuck.getStackTrace()).map(s -> "  at " + s).collect(Collectors.joining("\n"))));
        }
    }

    /** {@return this process's address space, VmSize in /proc/self/status, in bytes} */
    private static long addressSpace() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmSize in /proc/self/status");
    }

    private static Thread findThread(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).findFirst().orElse(null);
    }

    private Outcome open(Path file, OpenMode mode, RegionOptions options, byte[] written, Expectation expected) {
        SharedRegion r;
        try {
            r = SharedRegion.openFile(file, mode, options);
        } catch (RegionException e) {
            String problem = null;
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                problem = "refused without a message: " + stack(e);
            } else if (expected.mustOpen()) {
                problem = mode + " refused (" + e.kind() + ") what must open (" + expected.why() + "): " + stack(e);
            } else if (!expected.refusedAs().isEmpty() && !expected.refusedAs().contains(e.kind())) {
                problem = mode + " refused as " + e.kind() + ", expected " + expected.refusedAs() + " for " + expected.why() + ": " + stack(e);
            }
            return new Outcome(false, e.kind(), problem);
        } catch (Throwable t) { // IllegalArgumentException included: nothing documents it for a bad header
            return new Outcome(false, null, mode + " threw " + t.getClass().getName() + " instead of a RegionException: " + stack(t));
        }
        String problem = null;
        try {
            if (!expected.refusedAs().isEmpty()) {
                problem = mode + " opened what must be refused (" + expected.why() + "): " + r;
            } else {
                problem = inconsistency(r, mode, options, written);
            }
        } catch (Throwable t) {
            problem = mode + " opened, then using the region threw " + t.getClass().getName() + ": " + stack(t);
        } finally {
            try {
                r.close();
            } catch (Throwable t) {
                problem = (problem == null ? "" : problem + "; and ") + "close() threw " + stack(t);
            }
        }
        return new Outcome(true, null, problem);
    }

    /** {@return what is wrong with an opened region, or null}: sizes against the file, the data read back, the accessors */
    private String inconsistency(SharedRegion r, OpenMode mode, RegionOptions options, byte[] written) {
        long length = written.length;
        List<String> bad = new ArrayList<>();
        if (r.size() <= 0 || r.size() % page != 0) {
            bad.add("data size " + r.size() + " is not a positive number of pages");
        }
        if (r.dataOffset() < RegionLayout.MIN_HEADER_SIZE || r.dataOffset() % page != 0) {
            bad.add("data offset " + r.dataOffset() + " is not a whole header");
        }
        if (r.regionSize() != r.dataOffset() + r.size()) {
            bad.add("region size " + r.regionSize() + " != data offset " + r.dataOffset() + " + data size " + r.size());
        }
        if (r.regionSize() > length || r.regionSize() <= 0) {
            bad.add("region size " + r.regionSize() + " does not fit the file of " + length + " bytes");
        }
        if (r.layoutVersion() != RegionLayout.LAYOUT_VERSION) {
            bad.add("layout version " + r.layoutVersion());
        }
        if (r.addressing() == Addressing.DIRECT && !r.isOffsetFallback() && r.baseAddress() != r.recordedBaseAddress()) {
            bad.add("DIRECT region mapped at 0x" + Long.toHexString(r.baseAddress()) + ", its header says 0x" + Long.toHexString(r.recordedBaseAddress()));
        }
        if (r.reservedSpan() < r.regionSize()) {
            bad.add("reserved span " + r.reservedSpan() + " smaller than the region " + r.regionSize());
        }
        if (r.isOffsetFallback() && !options.allowOffsetFallback()) {
            bad.add("offset fallback without allowOffsetFallback");
        }
        if (!bad.isEmpty()) {
            return mode + " opened an inconsistent region " + r + ": " + String.join("; ", bad);
        }
        r.refresh(); // re-reads the mutable part of the header (current size, generation): nothing changed, nothing to do
        if (r.regionSize() > length || !r.isUsable()) {
            return mode + " refresh() of an unchanged file left " + r + " (usable " + r.isUsable() + ") over a file of " + length + " bytes";
        }
        MemorySegment data = r.segment();
        byte first = data.get(ValueLayout.JAVA_BYTE, 0);
        byte last = data.get(ValueLayout.JAVA_BYTE, data.byteSize() - 1);
        long firstAt = r.dataOffset();
        long lastAt = r.dataOffset() + r.size() - 1;
        if (first != written[(int) firstAt] || last != written[(int) lastAt]) {
            return mode + " read data bytes 0x" + Integer.toHexString(first & 0xFF) + " and 0x" + Integer.toHexString(last & 0xFF)
                + " where the file has 0x" + Integer.toHexString(written[(int) firstAt] & 0xFF) + " and 0x" + Integer.toHexString(written[(int) lastAt] & 0xFF);
        }
        if (mode != OpenMode.OPEN_READ_ONLY) { // a private or attached write lands, and (copy-on-write) is checked to stay private
            data.set(ValueLayout.JAVA_BYTE, 0, (byte) ~first);
            data.set(ValueLayout.JAVA_BYTE, data.byteSize() - 1, (byte) ~last);
        }
        // what a tool shows of the header must not throw for any header that was accepted
        String shown = r + " " + r.name() + " " + r.backing() + " " + r.creator() + " " + r.createdAt() + " " + r.maxAttached() + " "
            + r.attachedProcesses() + " " + r.permissions() + " " + r.writerLock().holder() + " " + r.writerLock().lastStaleHolder()
            + " " + r.writerLock().acquisitions() + " " + r.writerLock().staleRecoveries() + " " + r.references() + " " + r.generation();
        return shown.isEmpty() ? "nothing to show" : null;
    }

    private String unchanged(Path file, byte[] written, FileTime modified, String what) throws IOException {
        byte[] now = Files.readAllBytes(file);
        if (!Arrays.equals(now, written)) {
            int at = Arrays.mismatch(now, written);
            return "the " + what + " changed the file: " + now.length + " bytes now, " + written.length + " written, first difference at byte " + at;
        }
        if (modified != null && !Files.getLastModifiedTime(file).equals(modified)) {
            return "the " + what + " changed the file's modification time";
        }
        return null;
    }

    private static void record(List<String> failures, String context, String... problems) {
        for (String p : problems) {
            if (p != null) {
                failures.add(context + "\n  -> " + p);
            }
        }
    }

    private static String stack(Throwable t) {
        StringBuilder s = new StringBuilder(t.toString());
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c != t) {
                s.append("\n     caused by ").append(c);
            }
            StackTraceElement[] frames = c.getStackTrace();
            for (int k = 0; k < Math.min(frames.length, 14); k++) {
                s.append("\n       at ").append(frames[k]);
            }
        }
        return s.toString();
    }

    /**
     * Writes the file over in place and cuts it to length: truncating to zero and rewriting, as
     * {@code Files.write} does, makes ext4 start a writeback at every close (auto_da_alloc), 1 ms each.
     */
    private static void write(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                ch.write(buffer, buffer.position());
            }
            ch.truncate(bytes.length);
        }
    }

    private void markSeed(long seed) throws IOException {
        byte[] text = String.format("0x%016x%n", seed).getBytes(StandardCharsets.US_ASCII);
        lastSeed.write(ByteBuffer.wrap(text), 0);
    }
}
