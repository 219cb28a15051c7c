package dev.panmap.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import dev.panmap.clients.ClientProcess.Kind;
import dev.panmap.structures.HashIndex;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.RegionHeap;
import dev.panmap.structures.SkipList;
import dev.panmap.internal.RecordLayout;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Hostile content against the C and Python clients (issue 20, the clients' side): a region holding a
 * SeqRecord and the three structures, written by Java, is damaged by seeded mutations — random words,
 * and values aimed at the fields that steer a reader (references, sizes, capacities, levels, the
 * record's published word and sequences: 0, -1, 2^63, 0x7ff00000, a reference to itself, to its root,
 * past the end, misaligned, into a cycle) — and every read operation of the client must end within a
 * bound with a result or a documented error ({@code CORRUPT_REGION}, {@code INCOMPATIBLE_REGION},
 * {@code INVALID_ARGUMENT}, {@code WOULD_BLOCK} for a timed read), without crashing (the C client runs
 * under AddressSanitizer and UBSan, whose reports fail the test; a Python exception that is not a
 * {@code RegionError} ends the driver, which fails the test). A second phase lets a hostile Java
 * thread rewrite words while the client reads. The figures are printed, like {@code HeaderFuzzTest}'s.
 */
@LinuxOnly
class ClientContentFuzzTest {
    private static final long SEED = Long.getLong("panmap.fuzz.seed", 0x5EED_C11E_27L);
    private static final int CASES = Integer.getInteger("panmap.fuzz.clientCases", 1000);
    /** The most one operation may take: a timed read gives up after 2 s, everything else is immediate. */
    private static final long BOUND_MILLIS = 10_000;
    private static final Set<String> DOCUMENTED = Set.of("CORRUPT_REGION", "INCOMPATIBLE_REGION", "INVALID_ARGUMENT", "WOULD_BLOCK");
    private static final int RECORD_AT = 0;
    private static final int RING_AT = 512;        // a one-to-one ring of version 2, 1 KiB: [512, 2304)
    private static final int BROADCAST_AT = 2432;  // a broadcast buffer of version 2, 1 KiB: [2432, 3712)
    private static final int HEAP_AT = 4096;

    @RegisterExtension
    final Closer cleanup = new Closer();


    /** Where the structures are: roots, and the places a field-targeted mutation aims at. */
    private record Layout(long list, long hash, long skip, long used, List<Long> listNodes, long table, long capacity, List<Long> skipNodes,
                          RingConsumptionTest.V2 ring, RingConsumptionTest.V2 broadcast) {}

    private Layout fill(SharedRegion r) {
        SeqRecord record = SeqRecord.format(r, RECORD_AT, 64);
        RingConsumptionTest.V2 ring = new RingConsumptionTest.V2(r.segment(), RING_AT, 1024, 1, 1);
        for (long v = 1; v <= 5; v++) {
            ring.send(1, v, 8 + 8 * (int) v);
        }
        RingConsumptionTest.V2 broadcast = new RingConsumptionTest.V2(r.segment(), BROADCAST_AT, 1024, 3, 0);
        for (long v = 1; v <= 30; v++) {
            broadcast.transmit(v, 8 + 8 * (int) (v % 4)); // more than a lap: the buffer wraps
        }
        RegionHeap heap = RegionHeap.create(r, HEAP_AT, r.size() - HEAP_AT);
        List<Long> listNodes = new ArrayList<>();
        List<Long> skipNodes = new ArrayList<>();
        try (var held = r.writerLock().hold()) {
            record.write(p -> p.fill((byte) 7));
            NodeList list = NodeList.create(heap, 24);
            HashIndex hash = HashIndex.create(heap, 48);
            SkipList skip = SkipList.create(heap);
            for (long k = 1; k <= 40; k++) {
                listNodes.add(r.references().toOffset(list.add(k)));
                hash.put(k, k * k, -1);
                skip.put(k * 10, -k, 0);
            }
            for (long n = skip.ceilingNode(Long.MIN_VALUE); n != 0; n = skip.nextNode(n)) {
                skipNodes.add(r.references().toOffset(n));
            }
            long table = r.references().toOffset(hash.tableReference());
            return new Layout(list.root(), hash.root(), skip.root(), HEAP_AT + 64 + heap.used(), listNodes, table, hash.capacity(), skipNodes,
                ring, broadcast);
        }
    }

    /** The read operations put to the client after each mutation. */
    private static List<String> operations(Layout l, Random rng) {
        return List.of("record " + RECORD_AT, "read", "list " + l.list(), "hash " + l.hash() + " " + (1 + rng.nextInt(60)) + " " + rng.nextLong(),
            "skip " + l.skip() + " " + (rng.nextInt(500) - 50), "skipwalk " + l.skip() + " " + Long.MIN_VALUE, "consume " + RING_AT + " 0",
            "ringread 50", "bcastread 50");
    }

    /** One seeded mutation of the pristine structures; {@return what it did, for the log of a failure} */
    private static String mutate(MemorySegment data, SharedRegion r, Layout l, Random rng) {
        long refBase = r.references().toRef(0);
        long[] palette = {0, -1, 1, Long.MIN_VALUE, 0x7ff0_0000L, Long.MAX_VALUE, refBase - 8, refBase + data.byteSize(),
            refBase + data.byteSize() - 8, refBase + 4, refBase + rng.nextInt((int) l.used()), rng.nextLong(), 1L << 32};
        StringBuilder what = new StringBuilder();
        int n = 1 + rng.nextInt(4);
        for (int i = 0; i < n; i++) {
            long at;
            long value;
            switch (rng.nextInt(13)) {
                case 9 -> at = RING_AT + 8 * rng.nextInt(48);                     // the ring's control block
                case 10 -> at = l.ring().buffer - 0 + 8 * rng.nextInt(1024 / 8);   // its records' headers and payloads
                case 11 -> at = BROADCAST_AT + 8 * rng.nextInt(24);               // the broadcast's control block
                case 12 -> at = l.broadcast().buffer + 8 * rng.nextInt(1024 / 8); // its records
                case 0 -> at = rng.nextInt((int) (l.used() / 8)) * 8L; // anywhere in what was written
                case 1 -> at = l.list() + 8 * rng.nextInt(8);           // the list's root
                case 2 -> at = l.listNodes().get(rng.nextInt(l.listNodes().size())) + (rng.nextBoolean() ? 0 : 8);
                case 3 -> at = l.hash() + 8 * rng.nextInt(8);
                case 4 -> at = l.table() + 16 * rng.nextInt((int) l.capacity());
                case 5 -> at = l.skip() + 8 * rng.nextInt(8);
                case 6 -> at = l.skipNodes().get(rng.nextInt(l.skipNodes().size())) + 8 * rng.nextInt(4);
                case 7 -> at = RECORD_AT + 8 * rng.nextInt(RecordLayout.SLOTS_OFFSET / 8 + 2);
                default -> at = RECORD_AT + RecordLayout.SLOTS_OFFSET + RecordLayout.slotStride(64) * rng.nextInt(2); // a slot sequence
            }
            int pick = rng.nextInt(palette.length + 3);
            if (pick == palette.length) {
                value = r.references().toRef(at); // a reference to itself
            } else if (pick == palette.length + 1) {
                long[] roots = {l.list(), l.hash(), l.skip()};
                value = r.references().toRef(roots[rng.nextInt(3)]); // to a root: a cycle through the header
            } else if (pick == palette.length + 2) {
                value = data.get(ValueLayout.JAVA_LONG, at) | 1; // odd: a sequence being written, a misaligned reference
            } else {
                value = palette[pick];
            }
            data.set(ValueLayout.JAVA_LONG, at, value);
            what.append(String.format("[%d] := 0x%x ", at, value));
        }
        if (rng.nextInt(10) == 0) { // every hash slot a foreign key: a probe that never meets an empty slot
            for (long s = 0; s < l.capacity(); s++) {
                data.set(ValueLayout.JAVA_LONG, l.table() + 16 * s, 1000 + s);
            }
            what.append("hash table full of foreign keys ");
        }
        return what.toString();
    }

    /**
     * Puts one operation to the client and counts its outcome; one that takes longer than the bound or
     * ends in an undocumented error goes to {@code wrong}. {@return how long it took, ms}
     */
    private static long put(ClientProcess c, String op, Map<String, Long> outcomes, List<String> wrong, String context) {
        long start = System.nanoTime();
        String answer = c.ask(op);
        long millis = (System.nanoTime() - start) / 1_000_000;
        String outcome = answer.startsWith("ERROR ") ? answer.split(" ")[1] : answer.split(" ")[0];
        outcomes.merge(op.split(" ")[0] + " " + outcome, 1L, Long::sum);
        if (millis > BOUND_MILLIS || answer.startsWith("ERROR ") && !DOCUMENTED.contains(outcome)) {
            wrong.add(context + ": " + op + " -> " + answer + " in " + millis + " ms");
        }
        return millis;
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void everyReadEndsInABoundWithAResultOrADocumentedError(Kind kind) throws Exception {
        String name = Names.unique("fuzz-" + kind.name().toLowerCase());
        SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 18).addressing(Addressing.DIRECT)
            .baseAddress(CrossLanguageTest.TEST_BASE));
        cleanup.add(() -> {
            r.close();
            SharedRegion.remove(name);
        });
        Layout l = fill(r);
        MemorySegment data = r.segment();
        MemorySegment pristine = Arena.ofAuto().allocate(l.used());
        MemorySegment.copy(data, 0, pristine, 0, l.used());
        ClientProcess c = ClientProcess.start(kind);
        cleanup.add(c);
        c.expect("open shm " + name + " rw", "OPENED"); // a ring's consumer needs a writable region

        Map<String, Long> outcomes = new TreeMap<>();
        Random rng = new Random(SEED ^ kind.ordinal());
        long operations = 0;
        long slowest = 0;
        List<String> wrong = new ArrayList<>();
        long bcastTail = l.broadcast().tail;
        long bcastSequence = l.broadcast().sequence;
        for (int i = 0; i < CASES; i++) {
            MemorySegment.copy(pristine, 0, data, 0, l.used());
            // a receiver that starts at the broadcast's tail, then three more broadcasts for it, then the damage
            c.expect("receive " + BROADCAST_AT, "RECEIVER");
            l.broadcast().tail = bcastTail;
            l.broadcast().sequence = bcastSequence;
            for (int k = 0; k < 3; k++) {
                l.broadcast().transmit(100 + k, 8 * rng.nextInt(4));
            }
            String what = mutate(data, r, l, rng);
            for (String op : operations(l, rng)) {
                slowest = Math.max(slowest, put(c, op, outcomes, wrong, "case " + i + " (" + what + ")"));
                operations++;
            }
        }
        System.out.printf("client content fuzz, %s: seed 0x%x, %d cases, %d operations, slowest %d ms, 0 hangs (bound %d ms), 0 crashes;"
            + " outcomes %s%n", kind, SEED, CASES, operations, slowest, BOUND_MILLIS, outcomes);
        assertThat(wrong).as("operations that did not end within the bound with a result or a documented error").isEmpty();
        assertThat(outcomes.keySet()).as("the mutations reach the checks (a fuzz that breaks nothing proves nothing)")
            .anyMatch(k -> k.endsWith("CORRUPT_REGION")).anyMatch(k -> k.startsWith("list LIST")).anyMatch(k -> k.startsWith("read READ"))
            .anyMatch(k -> k.startsWith("ringread RINGREAD")).anyMatch(k -> k.startsWith("bcastread BCAST"))
            .anyMatch(k -> k.startsWith("ringread CORRUPT_REGION")).anyMatch(k -> k.startsWith("bcastread CORRUPT_REGION"));

        // a hostile writer: random words rewritten while the client reads (a timed read ends with WOULD_BLOCK at worst)
        MemorySegment.copy(pristine, 0, data, 0, l.used());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        Thread hostile = new Thread(() -> {
            Random w = new Random(SEED + 1);
            while (!stop.get()) {
                if (w.nextInt(64) == 0) {
                    MemorySegment.copy(pristine, 0, data, 0, l.used());
                }
                mutate(data, r, l, w);
                writes.incrementAndGet();
            }
        });
        c.expect("receive " + BROADCAST_AT, "RECEIVER");
        hostile.start();
        Map<String, Long> concurrent = new TreeMap<>();
        long concurrentOps = 0;
        try {
            Random ops = new Random(SEED + 2);
            for (int i = 0; i < CASES / 2; i++) {
                for (String op : operations(l, ops)) {
                    slowest = Math.max(slowest, put(c, op.equals("read") ? "read 2000" : op, concurrent, wrong, "while a hostile writer writes"));
                    concurrentOps++;
                }
            }
        } finally {
            stop.set(true);
            hostile.join();
        }
        System.out.printf("client content fuzz, %s, a hostile writer rewriting words (%d rewrites): %d operations, slowest %d ms, 0 hangs,"
            + " 0 crashes; outcomes %s%n", kind, writes.get(), concurrentOps, slowest, concurrent);
        assertThat(wrong).isEmpty();
        c.exitCleanly();
    }
}
