package dev.panmap.structures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HashIndexTest {
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void agreesWithAHashMapOnHitsAndMisses(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 1 << 20)) {
            HashIndex index = HashIndex.create(r.heap(), 10_000);
            assertThat(index.capacity()).isEqualTo(16384);
            Map<Long, Long> expected = new HashMap<>();
            Random random = new Random(11);
            try (WriterLock.Held held = r.region().writerLock().hold()) {
                for (int i = 0; i < 10_000; i++) {
                    long key = random.nextInt(20_000) + 1 - (i % 2 == 0 ? 0 : 40_000L); // clustered, some negative
                    long value = random.nextLong();
                    Long previous = expected.put(key, value);
                    assertThat(index.put(key, value, Long.MIN_VALUE)).isEqualTo(previous == null ? Long.MIN_VALUE : previous);
                }
            }
            assertThat(index.size()).isEqualTo(expected.size());
            try (SharedRegion again = r.openAgain()) {
                HashIndex other = HashIndex.attach(again, index.root());
                for (long key = -45_000; key <= 25_000; key++) {
                    if (key == 0) {
                        continue;
                    }
                    long want = expected.getOrDefault(key, -1L);
                    assertThat(index.get(key, -1)).isEqualTo(want);
                    assertThat(other.get(key, -1)).isEqualTo(want);
                    assertThat(index.containsKey(key)).isEqualTo(expected.containsKey(key));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void refusesKeyZeroAndAFourthQuarter(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 1 << 16)) {
            HashIndex index = HashIndex.create(r.heap(), 6);
            assertThat(index.capacity()).isEqualTo(8);
            assertThatThrownBy(() -> index.get(0, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key 0");
            assertThatThrownBy(() -> index.put(1, 1, 0)).isInstanceOf(IllegalStateException.class);
            try (WriterLock.Held held = r.region().writerLock().hold()) {
                for (int k = 1; k <= 6; k++) {
                    index.put(k, k, 0);
                }
                index.put(3, 33, 0); // an update needs no new slot
                assertThatThrownBy(() -> index.put(7, 7, 0)).isInstanceOf(RegionException.class)
                    .extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.NO_SPACE);
            }
            assertThat(index.get(3, 0)).isEqualTo(33);
            assertThat(index.get(7, -5)).isEqualTo(-5);
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aDamagedRootIsRefusedAtAttachNotFollowed(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 1 << 16)) {
            HashIndex index = HashIndex.create(r.heap(), 100);
            long root = index.root();
            java.lang.foreign.MemorySegment data = r.region().segment();
            long capacity = data.get(java.lang.foreign.ValueLayout.JAVA_LONG, root + StructureLayout.Hash.CAPACITY_OFFSET);
            data.set(java.lang.foreign.ValueLayout.JAVA_LONG, root + StructureLayout.Hash.CAPACITY_OFFSET, 3);
            assertThatThrownBy(() -> HashIndex.attach(r.region(), root)).isInstanceOf(RegionException.class)
                .hasMessageContaining("is damaged").extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.CORRUPT_REGION);
            data.set(java.lang.foreign.ValueLayout.JAVA_LONG, root + StructureLayout.Hash.CAPACITY_OFFSET, capacity);
            data.set(java.lang.foreign.ValueLayout.JAVA_LONG, root + StructureLayout.Hash.TABLE_OFFSET, 0x7fff_0000_0000L);
            assertThatThrownBy(() -> HashIndex.attach(r.region(), root)).isInstanceOf(RegionException.class)
                .hasMessageContaining("is damaged");
        }
    }

    /**
     * Issue 20: a table whose every slot holds a foreign key (never made by put, which fills 3/4). On
     * main's code get, containsKey and put of an absent key probed forever at 100% CPU; now each looks
     * at every slot once and ends with CORRUPT_REGION. Keys that are there are still found.
     */
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aTableWithNoEmptySlotEndsEveryProbeWithCorruptRegion(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 1 << 16)) {
            HashIndex index = HashIndex.create(r.heap(), 100);
            java.lang.foreign.MemorySegment data = r.region().segment();
            long table = r.region().references().toOffset(index.tableReference());
            for (long i = 0; i < index.capacity(); i++) {
                data.set(java.lang.foreign.ValueLayout.JAVA_LONG, table + i * StructureLayout.Hash.SLOT_SIZE, 1_000_000 + i);
                data.set(java.lang.foreign.ValueLayout.JAVA_LONG, table + i * StructureLayout.Hash.SLOT_SIZE + 8, i);
            }
            java.time.Duration bound = java.time.Duration.ofSeconds(10);
            long absent = 42;
            for (org.junit.jupiter.api.function.Executable probe : java.util.List.<org.junit.jupiter.api.function.Executable>of(
                    () -> index.get(absent, -1), () -> index.containsKey(absent), () -> {
                        try (WriterLock.Held held = r.region().writerLock().hold()) {
                            index.put(absent, 1, -1);
                        }
                    })) {
                org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(bound, () ->
                    assertThatThrownBy(probe::execute).isInstanceOf(RegionException.class)
                        .hasMessageContaining("the hash index at data offset " + index.root())
                        .hasMessageContaining("all " + index.capacity() + " slots of its table hold other keys than 42")
                        .extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.CORRUPT_REGION));
            }
            assertThat(index.get(1_000_005, -1)).isEqualTo(5);
            assertThat(index.containsKey(1_000_005)).isTrue();
            // a stored value equal to the probe's internal "went round" mark is a value, not damage
            data.set(java.lang.foreign.ValueLayout.JAVA_LONG, table + 5 * StructureLayout.Hash.SLOT_SIZE + 8, Long.MIN_VALUE + 0x2a);
            assertThat(index.get(1_000_005, -1)).isEqualTo(Long.MIN_VALUE + 0x2a);
        }
    }
}
