package dev.panmap.structures;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.WriterLock;
import dev.panmap.testing.ChildJvm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One process builds a list, a hash index and a skip list; a child JVM attaches by name and root, checks and adds. */
class StructuresCrossProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int N = 5000;

    /** The seeded key-value pairs both processes know: distinct odd keys in (0, 2^40). */
    static long[][] contents(int n) {
        Random random = new Random(42);
        long[][] kv = new long[n][];
        for (int i = 0; i < n; i++) {
            kv[i] = new long[] {(random.nextLong(1L << 38) << 2) | 1, random.nextLong()};
        }
        return kv;
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aChildAttachesFollowsAndWrites(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 4 << 20)) {
            RegionHeap heap = r.heap();
            NodeList list = NodeList.create(heap, 64);
            HashIndex hash = HashIndex.create(heap, N + 1);
            SkipList skip = SkipList.create(heap);
            List<Long> nodes = new ArrayList<>();
            for (int i = 1; i <= N; i++) {
                nodes.add(list.newNode(i));
            }
            Collections.shuffle(nodes, new Random(3));
            try (WriterLock.Held held = r.region().writerLock().hold()) {
                nodes.forEach(list::append);
                for (long[] e : contents(N)) {
                    hash.put(e[0], e[1], -1);
                    skip.put(e[0], e[1], -1);
                }
            }
            try (ChildJvm child = ChildJvm.start(StructuresChild.class, r.name(), Long.toString(list.root()),
                    Long.toString(hash.root()), Long.toString(skip.root()), Integer.toString(N))) {
                String attached = child.awaitPrefix("ATTACHED ", WAIT);
                assertThat(attached).as("the child follows absolute pointers in DIRECT mode")
                    .contains("direct=" + (addressing == Addressing.DIRECT));
                if (addressing == Addressing.DIRECT) {
                    assertThat(attached).contains("base=" + Long.toHexString(r.region().baseAddress()));
                }
                assertThat(child.awaitPrefix("LIST ", WAIT))
                    .isEqualTo("count=" + N + " sum=" + (long) N * (N + 1) / 2 + " first=" + Long.toHexString(list.first()));
                assertThat(child.awaitPrefix("HASH ", WAIT)).isEqualTo("ok=" + N + " SKIP ok=" + N + " skipSize=" + N);
                child.awaitLine("WROTE"::equals, WAIT);
                assertThat(child.awaitExit(WAIT)).isZero();
            }
            assertThat(list.size()).isEqualTo(N + 1);
            assertThat(list.sum()).isEqualTo((long) N * (N + 1) / 2 + 1_000_000);
            assertThat(list.value(list.advance(nodes.get(N - 1), 1))).isEqualTo(1_000_000);
            assertThat(hash.get(123_456_789, -1)).isEqualTo(42);
            assertThat(skip.get(Long.MAX_VALUE, -1)).isEqualTo(43);
            assertThat(skip.floorKey(Long.MAX_VALUE, 0)).isEqualTo(Long.MAX_VALUE);
        }
    }
}
