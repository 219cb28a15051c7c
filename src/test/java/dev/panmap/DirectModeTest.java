package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.internal.Platforms;
import dev.panmap.internal.posix.Posix;
import dev.panmap.internal.posix.PosixPlatform;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.ReferenceChecking;
import dev.panmap.structures.RegionHeap;
import dev.panmap.structures.SkipList;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.DirectRaceChild;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.RegionChild;
import dev.panmap.testing.RegionNames;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DIRECT mode as a long-lived service uses it: opens and closes of regions of any size at one base,
 * close racing with readers and followed by a reopen at the same base, and bad references.
 */
class DirectModeTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    @RegisterExtension
    final RegionNames regions = new RegionNames();

    private String name(String stem) {
        return regions.next(stem);
    }

    private static RegionOptions direct(long size, long base) {
        return RegionOptions.defaults().size(size).addressing(Addressing.DIRECT).baseAddress(base);
    }

    private static List<long[]> reservations() {
        return ((PosixPlatform) Platforms.current()).reservedRanges();
    }

    /** The review's reproduction 1, in three real processes: another process's regions, opened small, big, small, big here. */
    @Test
    @LinuxOnly // POSIX backend internals, or behaviour checked on Linux only
    void anotherProcessOpensSmallThenBigThenSmallThenBigAtTheSameBase() {
        String small = name("small");
        String big = name("big");
        long base = 0x6200_0000_0000L;
        SharedRegion.create(small, direct(64 << 10, base)).close(); // the reservation small leaves...
        try (SharedRegion b = SharedRegion.create(big, direct(8 << 20, base))) { // ...is extended for big
            assertThat(b.baseAddress()).isEqualTo(base);
        }
        try (ChildJvm child = ChildJvm.start(RegionChild.class)) {
            child.awaitPrefix("READY", WAIT);
            for (String n : new String[] {small, big, small, big}) {
                child.send("open shm " + n + " OPEN_ONLY");
                assertThat(child.awaitLine(l -> l.startsWith("OPENED ") || l.startsWith("ERROR "), WAIT))
                    .as("open " + n).startsWith("OPENED base=" + Long.toHexString(base) + " ");
                child.send("close");
                child.awaitLine("CLOSED"::equals, WAIT);
            }
        }
    }

    @Test
    @LinuxOnly // POSIX backend internals, or behaviour checked on Linux only
    void anySequenceOfOpensAndClosesOfAnySizeAtOneBaseSucceeds() {
        long base = 0x6300_0000_0000L;
        long[] sizes = {4 << 10, 64 << 10, 1 << 20, 8 << 20, 3 << 20, 12 << 10, 32 << 20};
        Map<Long, String> regions = new HashMap<>();
        for (long size : sizes) { // each created at the base: the previous one's reservation is reused and grown
            String n = name("seq");
            SharedRegion.create(n, direct(size, base)).close();
            regions.put(size, n);
        }
        SplittableRandom random = new SplittableRandom(7);
        long maxEnd = 0;
        for (int i = 0; i < 60; i++) {
            long size = sizes[random.nextInt(sizes.length)];
            try (SharedRegion r = SharedRegion.open(regions.get(size))) {
                assertThat(r.baseAddress()).isEqualTo(base);
                r.segment().set(ValueLayout.JAVA_LONG, r.size() - 8, i); // the whole range is really mapped
                maxEnd = Math.max(maxEnd, base + r.regionSize());
                if (i % 10 == 0) { // while one is open at the base, another cannot be: panmap's own region, named
                    String other = regions.get(size == sizes[0] ? sizes[1] : sizes[0]);
                    assertThatThrownBy(() -> SharedRegion.open(other))
                        .hasMessageContaining("occupied by panmap's own DIRECT mapping of shm \"" + r.name() + "\"")
                        .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.type(NativeException.class))
                        .satisfies(e -> assertThat(e.kind()).isEqualTo(ErrorKind.ADDRESS_IN_USE));
                }
            }
        }
        long end = maxEnd;
        assertThat(reservations()).as("closed regions leave one merged reservation")
            .anySatisfy(range -> {
                assertThat(range[0]).isEqualTo(base);
                assertThat(range[1]).isGreaterThanOrEqualTo(end);
            });
    }

    @Test
    @LinuxOnly // POSIX backend internals, or behaviour checked on Linux only
    void aMappingPanmapDidNotMakeIsNamedAndLeftAlone() {
        long base = 0x6400_0000_0000L;
        String n = name("foreign");
        SharedRegion.create(n, direct(64 << 10, base)).close(); // panmap's reservation covers [base, base + 68K)
        long squat = base + (1 << 20); // something else maps right where a bigger region would extend to
        long placed = Posix.mmap(squat, 4096, 1 /* PROT_READ */, 0x22 | 0x100000 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE */, -1, 0);
        assertThat(placed).isEqualTo(squat);
        try {
            List<long[]> before = reservations();
            String big = name("foreign-big");
            assertThatThrownBy(() -> SharedRegion.create(big, direct(8 << 20, base)))
                .hasMessageContaining("occupied by a mapping panmap did not make: " + Long.toHexString(squat) + "-")
                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.type(NativeException.class))
                .satisfies(e -> assertThat(e.kind()).isEqualTo(ErrorKind.ADDRESS_IN_USE));
            assertThat(reservations()).as("nothing reserved for the failed attempt is kept").usingRecursiveComparison().isEqualTo(before);
            try (SharedRegion small = SharedRegion.open(n)) { // panmap's own reservation is still usable
                assertThat(small.baseAddress()).isEqualTo(base);
            }
        } finally {
            Posix.munmap(squat, 4096);
        }
    }

    /**
     * The review's reproduction 2: readers chasing through a DIRECT region while another thread closes
     * it and creates a region full of garbage at the same base. In a child JVM with C2, so that a fault
     * would show as its exit status.
     */
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void readersRacingWithCloseAndReopenAtTheSameBaseEndWithAnExceptionNeverAFault(Addressing addressing) {
        int rounds = 12;
        // -XX:TieredStopAtLevel=4 after ChildJvm's own =1: the last one counts, so the loops reach C2
        try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=4"),
                DirectRaceChild.class, String.valueOf(rounds), "CHECKED", addressing.name(), Names.unique("race"))) {
            List<String> out = child.stdoutAfterExit(Duration.ofMinutes(3));
            assertThat(child.process().exitValue()).as("exit status (134 would be a JVM crash); stderr: " + child.stderr()).isZero();
            assertThat(out).contains("DONE");
            List<String> ends = out.stream().filter(l -> l.startsWith("ROUND ")).toList();
            assertThat(ends).hasSize(rounds).allSatisfy(l -> assertThat(l)
                .matches("ROUND \\d+ list=(IllegalStateException|RegionException:CORRUPT_REGION) skip=(IllegalStateException|RegionException:CORRUPT_REGION)"));
        }
    }

    @LinuxOnly // POSIX backend internals, or behaviour checked on Linux only
    @ParameterizedTest(name = "own arena: {0}")
    @ValueSource(booleans = {true, false})
    void offsetRegionsReuseTheirReservationsSoTheAddressSpaceHeldStaysBounded(boolean ownArena) {
        String n = name("reuse");
        long size = 1 << 20;
        SharedRegion.create(n, RegionOptions.defaults().size(size)).close();
        dev.panmap.internal.CloseBatch.endCurrent();
        long before = heldAnywhere();
        for (int i = 0; i < 300; i++) {
            try (SharedRegion r = SharedRegion.open(n, OpenMode.OPEN_ONLY, RegionOptions.defaults().ownArena(ownArena))) {
                r.segment().set(ValueLayout.JAVA_LONG, 0, i);
            }
        }
        dev.panmap.internal.CloseBatch.endCurrent();
        // a region closed in a batch (the default) keeps its range until the batch's arena closes, so a
        // batch's regions take one range each: bounded by a batch, not by the cycles
        long batch = ownArena ? 1 : dev.panmap.internal.CloseBatch.REGIONS;
        assertThat(heldAnywhere() - before).as("bytes of address space held after 300 open/close cycles")
            .isLessThanOrEqualTo((batch + 1) * (size + 4096));
    }

    private static long heldAnywhere() {
        return reservations().stream().filter(r -> r[2] == 1).mapToLong(r -> r[1] - r[0]).sum();
    }

    @Test
    @LinuxOnly // POSIX backend internals, or behaviour checked on Linux only
    void theReviewsBadReferenceIsAnExceptionOnADirectRegion() {
        String n = name("badref-direct");
        try (SharedRegion r = SharedRegion.create(n, RegionOptions.defaults().size(1 << 20).addressing(Addressing.DIRECT))) {
            NodeList list = NodeList.create(RegionHeap.create(r, 0, r.size()), 32);
            assertThatThrownBy(() -> list.value(0x1000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the node is not a reference into " + n + " 0x1000, which is not an 8-aligned reference to 32 bytes inside the data area"
                    + " (references 0x" + Long.toHexString(r.address(0)) + " to 0x" + Long.toHexString(r.address(r.size() - 32)) + ")");
        }
    }

    @ParameterizedTest
    @LinuxOnly // POSIX backend internals, or behaviour checked on Linux only
    @EnumSource(Addressing.class)
    void aBadReferenceIsAClearExceptionInBothModes(Addressing addressing) {
        String n = name("badref");
        try (SharedRegion r = SharedRegion.create(n, RegionOptions.defaults().size(1 << 20).addressing(addressing))) {
            RegionHeap heap = RegionHeap.create(r, 0, r.size());
            NodeList list = NodeList.create(heap, 32);
            SkipList skip = SkipList.create(heap);
            long a;
            try (WriterLock.Held held = r.writerLock().hold()) {
                a = list.add(1);
                list.add(2);
                for (int k = 1; k <= 100; k++) {
                    skip.put(k, k, -1);
                }
            }
            // the review's reproduction 3: a reference the caller made up
            long below = r.references().toRef(0) - 8;
            for (long bad : new long[] {below, a + 4, r.references().toRef(r.size()), r.references().toRef(r.size() - 8), -8}) {
                assertThatThrownBy(() -> list.value(bad)).as("0x" + Long.toHexString(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a reference into " + n);
                assertThatThrownBy(() -> skip.key(bad)).isInstanceOf(IllegalArgumentException.class);
            }
            // a bad link written into the region (by a bug, or any process with write access)
            long offsetOfA = r.references().toOffset(a);
            for (long bad : new long[] {below, a + 4, r.references().toRef(r.size() - 8), Long.MIN_VALUE}) {
                r.segment().set(ValueLayout.JAVA_LONG, offsetOfA, bad); // node a's next reference
                for (ReferenceChecking checking : new ReferenceChecking[] {ReferenceChecking.CHECKED}) {
                    NodeList attached = NodeList.attach(r, list.root(), checking);
                    assertThatThrownBy(() -> attached.advance(a, 5)).as("advance over 0x" + Long.toHexString(bad))
                        .isInstanceOf(RegionException.class).hasMessageContaining("is damaged")
                        .extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.CORRUPT_REGION);
                    assertThatThrownBy(attached::sum).isInstanceOf(RegionException.class).hasMessageContaining("is damaged");
                    assertThatThrownBy(() -> attached.next(a)).isInstanceOf(RegionException.class);
                }
            }
            // a cycle: a's next is a itself
            r.segment().set(ValueLayout.JAVA_LONG, offsetOfA, a);
            assertThatThrownBy(list::sum).isInstanceOf(RegionException.class).hasMessageContaining("a cycle");
            // a skip-list link pointing half-way into a node
            long headNext = skip.ceilingNode(Long.MIN_VALUE);
            long offsetOfFirst = r.references().toOffset(headNext);
            r.segment().set(ValueLayout.JAVA_LONG, offsetOfFirst + 24, headNext + 12); // level-0 next of the first node
            assertThatThrownBy(() -> skip.floorKey(2, -1)).isInstanceOf(RegionException.class).hasMessageContaining("is damaged");
        }
    }
}
