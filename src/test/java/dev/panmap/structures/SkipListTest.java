package dev.panmap.structures;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.References;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SkipListTest {
    private static final long NONE = Long.MIN_VALUE;

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void agreesWithATreeMap(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 4 << 20)) {
            SkipList list = SkipList.create(r.heap());
            TreeMap<Long, Long> expected = new TreeMap<>();
            Random random = new Random(5);
            assertThat(list.floorKey(1, NONE)).isEqualTo(NONE);
            assertThat(list.firstKey(NONE)).isEqualTo(NONE);
            try (WriterLock.Held held = r.region().writerLock().hold()) {
                for (int i = 0; i < 20_000; i++) {
                    long key = random.nextLong(-1_000_000, 1_000_000);
                    long value = random.nextLong();
                    Long previous = expected.put(key, value);
                    assertThat(list.put(key, value, NONE)).isEqualTo(previous == null ? NONE : previous);
                }
            }
            assertThat(list.size()).isEqualTo(expected.size());
            try (SharedRegion again = r.openAgain()) {
                SkipList other = SkipList.attach(again, list.root());
                for (SkipList l : new SkipList[] {list, other}) {
                    for (int i = 0; i < 20_000; i++) {
                        long q = random.nextLong(-1_100_000, 1_100_000);
                        if (i % 3 == 0) {
                            q = expected.ceilingKey(q) == null ? q : expected.ceilingKey(q); // plenty of hits
                        }
                        assertThat(l.get(q, NONE)).isEqualTo(expected.getOrDefault(q, NONE));
                        Long floor = expected.floorKey(q);
                        Long ceiling = expected.ceilingKey(q);
                        assertThat(l.floorKey(q, NONE)).isEqualTo(floor == null ? NONE : floor);
                        assertThat(l.floorValue(q, NONE)).isEqualTo(floor == null ? NONE : expected.get(floor));
                        assertThat(l.ceilingKey(q, NONE)).isEqualTo(ceiling == null ? NONE : ceiling);
                    }
                    long n = l.ceilingNode(Long.MIN_VALUE);
                    for (var e : expected.entrySet()) {
                        assertThat(l.key(n)).isEqualTo(e.getKey());
                        assertThat(l.value(n)).isEqualTo(e.getValue());
                        n = l.nextNode(n);
                    }
                    assertThat(n).isEqualTo(References.NULL);
                    assertThat(l.firstKey(NONE)).isEqualTo(expected.firstKey());
                }
            }
        }
    }
}
