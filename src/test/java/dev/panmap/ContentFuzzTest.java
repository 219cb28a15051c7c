package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.structures.HashIndex;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.RegionHeap;
import dev.panmap.structures.SkipList;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.HostileWriterChild;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 20, Java's side of hostile content (HeaderFuzzTest's counterpart for what lies past the
 * header): a region holding a SeqRecord, a node list, a hash index and a skip list is damaged by
 * seeded mutations ({@link HostileWriterChild#mutate}: 0, -1, the extremes, 0x7ff00000, references
 * before, into and past the data area, misaligned, to themselves or to a root, odd sequences), and
 * every operation of a reader, and of a writer under the lock, must end within a bound with a result or
 * a documented {@link RegionException} ({@code CORRUPT_REGION}, {@code INCOMPATIBLE_REGION},
 * {@code NO_SPACE}, {@code WOULD_BLOCK} for a timed read), allocating no more than a small constant
 * (never in proportion to a forged length), and never crashing the JVM. A second phase runs the
 * readers while a hostile writer process ({@link HostileWriterChild}, no lock taken) rewrites words.
 * The figures are printed like HeaderFuzzTest's. Replay with {@code -Dpanmap.contentFuzz.seed=S
 * -Dpanmap.contentFuzz.cases=N}; case {@code i} uses seed {@code S + i}.
 */
@LinuxOnly
class ContentFuzzTest {
    private static final long SEED = Long.getLong("panmap.contentFuzz.seed", 0x20_C0_47E47L);
    private static final int CASES = Integer.getInteger("panmap.contentFuzz.cases", 1500);
    /** Not a timing assertion: a hang detector, generous for a loaded 2-core machine (a timed read gives up after 200 ms). */
    private static final long BOUND_MILLIS = 10_000;
    /**
     * The most one operation may allocate: small objects and exception messages, nothing sized by the
     * region's words (a forged length of 0x7ff00000 would show as 2 GiB). The first exception message
     * of a kind costs ~240 KiB once (its string concatenation is bootstrapped then).
     */
    private static final long ALLOCATION_BOUND = 1 << 20;
    private static final Set<ErrorKind> DOCUMENTED = Set.of(ErrorKind.CORRUPT_REGION, ErrorKind.INCOMPATIBLE_REGION,
        ErrorKind.NO_SPACE, ErrorKind.WOULD_BLOCK);
    private static final long RECORD_AT = 0;
    private static final int PAYLOAD = 64;
    private static final long HEAP_AT = 4096;

    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "content-fuzz-operation");
        t.setDaemon(true); // a hung operation must not keep the JVM alive
        return t;
    });
    /** {@code com.sun.management.ThreadMXBean::getCurrentThreadAllocatedBytes}, by reflection: the module reads only java.base. */
    private static final java.util.function.LongSupplier ALLOCATED = allocatedBytes();

    private static java.util.function.LongSupplier allocatedBytes() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
            return () -> {
                try {
                    return (Long) allocated.invoke(bean);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            };
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot measure allocation per thread (jdk.management)", e);
        }
    }

    @AfterEach
    void stop() {
        runner.shutdownNow();
    }

    /** Where the structures are, and the hot offsets (roots, first nodes, table slots, record words) a mutation aims at. */
    private record Layout(long list, long hash, long skip, long used, long[] hot, long table, long capacity) {}

    private static Layout fill(SharedRegion r) {
        SeqRecord record = SeqRecord.format(r, RECORD_AT, PAYLOAD);
        RegionHeap heap = RegionHeap.create(r, HEAP_AT, r.size() - HEAP_AT);
        List<Long> hot = new ArrayList<>(List.of(RECORD_AT + 8, RECORD_AT + 16, RECORD_AT + 64, RECORD_AT + 64 + 128, HEAP_AT + 16,
            HEAP_AT + 24, HEAP_AT + 32));
        try (var held = r.writerLock().hold()) {
            record.write(p -> p.fill((byte) 7));
            NodeList list = NodeList.create(heap, 24);
            HashIndex hash = HashIndex.create(heap, 48);
            SkipList skip = SkipList.create(heap);
            for (long k = 1; k <= 40; k++) {
                long node = list.add(k);
                hash.put(k, k * k, -1);
                skip.put(k * 10, -k, 0);
                if (k % 8 == 1) {
                    hot.add(r.references().toOffset(node));
                }
            }
            for (long root : new long[] {list.root(), hash.root(), skip.root()}) {
                for (int w = 0; w < 6; w++) {
                    hot.add(root + 8L * w);
                }
            }
            long table = r.references().toOffset(hash.tableReference());
            for (int s = 0; s < 8; s++) {
                hot.add(table + 16L * s * (hash.capacity() / 8));
            }
            int i = 0;
            for (long n = skip.ceilingNode(Long.MIN_VALUE); n != 0; n = skip.nextNode(n)) {
                if (i++ % 6 == 0) {
                    hot.add(r.references().toOffset(n));
                }
            }
            return new Layout(list.root(), hash.root(), skip.root(), HEAP_AT + 64 + heap.used(),
                hot.stream().mapToLong(Long::longValue).toArray(), table, hash.capacity());
        }
    }

    /** The operations put after each mutation: readers through {@code reader}, writers through {@code writer} under its lock. */
    private static List<Map.Entry<String, Callable<String>>> operations(SharedRegion reader, SharedRegion writer, Layout l,
                                                                        SplittableRandom rng, boolean withWriters) {
        long key = 1 + rng.nextInt(60);
        MemorySegment into = Arena.ofAuto().allocate(PAYLOAD);
        List<Map.Entry<String, Callable<String>>> ops = new ArrayList<>(List.of(
            Map.entry("record.read(timeout)", () -> record(reader, r -> r.read(into, Duration.ofMillis(200)))),
            Map.entry("record.read", () -> record(reader, r -> r.read(into))),
            Map.entry("list.walk", () -> {
                NodeList list = NodeList.attach(reader, l.list());
                long hops = 0;
                for (long n = list.first(); n != 0 && hops <= 100_000; n = list.next(n)) {
                    list.value(n);
                    hops++;
                }
                return hops > 100_000 ? "WALK_CAPPED" : "OK";
            }),
            Map.entry("list.sum", () -> {
                NodeList list = NodeList.attach(reader, l.list());
                list.sum();
                long first = list.first();
                if (first != 0) {
                    list.advance(first, 1 + rng.nextInt(50));
                }
                return "OK";
            }),
            Map.entry("hash.get", () -> {
                HashIndex hash = HashIndex.attach(reader, l.hash());
                return hash.get(key, -1) == key * key && hash.containsKey(key) ? "FOUND" : "OTHER";
            }),
            Map.entry("skip.get", () -> {
                SkipList skip = SkipList.attach(reader, l.skip());
                skip.floorKey(key * 10 + 5, 0);
                skip.ceilingKey(key * 10 - 5, 0);
                return skip.get(key * 10, 0) == -key ? "FOUND" : "OTHER";
            }),
            Map.entry("skip.walk", () -> {
                SkipList skip = SkipList.attach(reader, l.skip());
                long hops = 0;
                for (long n = skip.ceilingNode(Long.MIN_VALUE); n != 0 && hops <= 100_000; n = skip.nextNode(n)) {
                    skip.key(n);
                    skip.value(n);
                    hops++;
                }
                return hops > 100_000 ? "WALK_CAPPED" : "OK";
            })));
        if (withWriters) {
            ops.add(Map.entry("writers", () -> {
                try (var held = writer.writerLock().hold()) {
                    HashIndex.attach(writer, l.hash()).put(100 + key, key, -1);
                    SkipList.attach(writer, l.skip()).put(key * 10 + 1, key, 0);
                    NodeList.attach(writer, l.list()).add(key);
                    SeqRecord.attach(writer, RECORD_AT).write(p -> p.fill((byte) key));
                }
                return "OK";
            }));
        }
        return ops;
    }

    /**
     * Attaches to the record and reads it as a careful caller does: one whose header says another
     * payload size than the caller's buffer is not read ({@code read} would refuse the buffer).
     */
    private static String record(SharedRegion reader, java.util.function.ToLongFunction<SeqRecord> read) {
        SeqRecord record = SeqRecord.attach(reader, RECORD_AT);
        if (record.payloadSize() != PAYLOAD) {
            return "OTHER_SIZE";
        }
        return "v" + Math.min(read.applyAsLong(record), 1);
    }

    /** The figures of one phase. */
    private static final class Tally {
        final Map<String, Long> outcomes = new TreeMap<>();
        final List<String> wrong = new ArrayList<>();
        long operations;
        long slowestMillis;
        long mostAllocated;
        String mostAllocatedBy = "";

        @Override
        public String toString() {
            return operations + " operations, slowest " + slowestMillis + " ms, at most " + mostAllocated + " bytes allocated by one (" + mostAllocatedBy + "), "
                + wrong.stream().filter(w -> w.contains("did not end")).count() + " hangs (bound " + BOUND_MILLIS + " ms), 0 crashes; outcomes "
                + outcomes;
        }
    }

    /** Runs one operation on the runner thread, bounded; counts its outcome. */
    private void put(String op, Callable<String> body, Tally t, String context) throws InterruptedException {
        long start = System.nanoTime();
        Future<String> result = runner.submit(() -> {
            long before = ALLOCATED.getAsLong();
            String outcome;
            try {
                outcome = body.call();
            } catch (RegionException e) {
                outcome = DOCUMENTED.contains(e.kind()) ? e.kind().name() : "UNDOCUMENTED " + e;
            } catch (RuntimeException | Error e) {
                outcome = "UNDOCUMENTED " + e + " at " + java.util.Arrays.stream(e.getStackTrace())
                    .filter(f -> f.getClassName().startsWith("dev.panmap.") && !f.getClassName().contains("ContentFuzzTest")).limit(3).toList();
            }
            long allocated = ALLOCATED.getAsLong() - before;
            return allocated + " " + outcome;
        });
        String answer;
        try {
            answer = result.get(BOUND_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            t.wrong.add(context + ": " + op + " did not end within " + BOUND_MILLIS + " ms");
            throw new AssertionError("a hang: " + t.wrong.getLast() + " (the operation's thread is left spinning)");
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        long allocated = Long.parseLong(answer.substring(0, answer.indexOf(' ')));
        String outcome = answer.substring(answer.indexOf(' ') + 1);
        t.operations++;
        t.slowestMillis = Math.max(t.slowestMillis, millis);
        if (allocated > t.mostAllocated) {
            t.mostAllocated = allocated;
            t.mostAllocatedBy = op + " " + outcome;
        }
        t.outcomes.merge(op + " " + (outcome.startsWith("UNDOCUMENTED") ? "UNDOCUMENTED" : outcome), 1L, Long::sum);
        if (outcome.startsWith("UNDOCUMENTED")) {
            t.wrong.add(context + ": " + op + " -> " + outcome);
        }
        if (allocated > ALLOCATION_BOUND) {
            t.wrong.add(context + ": " + op + " allocated " + allocated + " bytes (bound " + ALLOCATION_BOUND + ") -> " + outcome);
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void everyOperationEndsInABoundWithAResultOrADocumentedError(Addressing addressing) throws Exception {
        String name = Names.unique("content-fuzz");
        try (SharedRegion writer = SharedRegion.create(name, RegionOptions.defaults().size(1 << 18).addressing(addressing));
             SharedRegion reader = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults().allowOffsetFallback(true))) {
            Layout l = fill(writer);
            MemorySegment data = writer.segment();
            MemorySegment pristine = Arena.ofAuto().allocate(l.used());
            MemorySegment.copy(data, 0, pristine, 0, l.used());
            long refBase = writer.references().toRef(0);

            for (var op : operations(reader, writer, l, new SplittableRandom(SEED), false)) { // warm-up: classes load, not counted
                put(op.getKey(), op.getValue(), new Tally(), "pristine");
            }
            MemorySegment.copy(data, 0, pristine, 0, l.used());
            Tally damaged = new Tally();
            for (int i = 0; i < CASES; i++) {
                long seed = SEED + i;
                SplittableRandom rng = new SplittableRandom(seed);
                MemorySegment.copy(pristine, 0, data, 0, l.used());
                StringBuilder described = new StringBuilder();
                HostileWriterChild.mutate(data, refBase, l.used(), l.hot(), rng, described);
                String what = described.toString();
                if (rng.nextInt(20) == 0) { // the case: every hash slot a foreign key
                    for (long s = 0; s < l.capacity(); s++) {
                        data.set(java.lang.foreign.ValueLayout.JAVA_LONG, l.table() + 16 * s, 1000 + s);
                    }
                    what += " and every hash slot a foreign key";
                }
                for (var op : operations(reader, writer, l, rng, true)) {
                    put(op.getKey(), op.getValue(), damaged, "seed 0x" + Long.toHexString(seed) + " (" + what + ")");
                }
            }
            System.out.println("ContentFuzzTest " + addressing + ": seed 0x" + Long.toHexString(SEED) + ", " + CASES + " cases; " + damaged);
            assertThat(damaged.wrong).as("operations that broke a promise (first 25)").isEmpty();
            assertThat(damaged.outcomes.keySet()).as("the mutations reach the checks (a fuzz that breaks nothing proves nothing)")
                .anyMatch(k -> k.startsWith("hash.get CORRUPT_REGION")).anyMatch(k -> k.startsWith("list.walk CORRUPT_REGION"))
                .anyMatch(k -> k.startsWith("skip.get CORRUPT_REGION")).anyMatch(k -> k.startsWith("record.read CORRUPT_REGION"))
                .anyMatch(k -> k.startsWith("record.read(timeout) WOULD_BLOCK") || k.startsWith("record.read(timeout) CORRUPT_REGION"))
                .anyMatch(k -> k.startsWith("list.walk OK")).anyMatch(k -> k.startsWith("hash.get FOUND"));

            // a hostile writer process rewrites words, without the lock, while this process reads
            MemorySegment.copy(pristine, 0, data, 0, l.used());
            List<String> args = new ArrayList<>(List.of(name, "0x" + Long.toHexString(SEED + CASES), Long.toString(l.used())));
            for (long h : l.hot()) {
                args.add(Long.toString(h));
            }
            Tally concurrent = new Tally();
            try (ChildJvm hostile = ChildJvm.start(HostileWriterChild.class, args.toArray(String[]::new))) {
                hostile.awaitLine("WRITING"::equals, Duration.ofSeconds(60));
                SplittableRandom rng = new SplittableRandom(SEED - 1);
                for (int i = 0; i < CASES / 3; i++) {
                    for (var op : operations(reader, writer, l, rng, false)) {
                        put(op.getKey(), op.getValue(), concurrent, "while a hostile writer process (pid " + hostile.pid() + ") writes");
                    }
                }
                hostile.send("stop");
                String wrote = hostile.awaitPrefix("WROTE ", Duration.ofSeconds(60));
                System.out.println("ContentFuzzTest " + addressing + ", a hostile writer process rewriting words (" + wrote + " rewrites): "
                    + concurrent);
            }
            assertThat(concurrent.wrong).as("operations that broke a promise while a hostile writer wrote").isEmpty();
        } finally {
            SharedRegion.remove(name);
        }
    }
}
