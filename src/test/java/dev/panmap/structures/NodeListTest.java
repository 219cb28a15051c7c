package dev.panmap.structures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.References;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class NodeListTest {
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void nodesLinkedInRandomOrderAreFollowedInListOrder(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 1 << 20)) {
            NodeList list = NodeList.create(r.heap(), 64);
            List<Long> nodes = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                nodes.add(list.newNode(i * 3L));
            }
            Collections.shuffle(nodes, new Random(7));
            try (WriterLock.Held held = r.region().writerLock().hold()) {
                nodes.forEach(list::append);
            }
            assertThat(list.size()).isEqualTo(1000);
            List<Long> seen = new ArrayList<>();
            for (long n = list.first(); n != References.NULL; n = list.next(n)) {
                seen.add(n);
            }
            assertThat(seen).isEqualTo(nodes);
            if (addressing == Addressing.DIRECT) {
                assertThat(list.first()).as("a DIRECT list stores absolute addresses")
                    .isEqualTo(r.region().address(r.region().references().toOffset(list.first())))
                    .isGreaterThan(r.region().baseAddress());
            } else {
                assertThat(list.first()).as("an OFFSET list stores offsets").isLessThan(r.region().regionSize());
            }
            assertThat(list.sum()).isEqualTo(3L * 999 * 1000 / 2);
            assertThat(list.value(nodes.get(5))).isEqualTo(list.payload(nodes.get(5)).get(java.lang.foreign.ValueLayout.JAVA_LONG, 0));
            // advance is a ring: 1000 steps come back, 1003 go 3 further
            assertThat(list.advance(nodes.get(0), 1000)).isEqualTo(nodes.get(0));
            assertThat(list.advance(nodes.get(998), 3)).isEqualTo(nodes.get(1));
            assertThat(list.advance(References.NULL, 2)).isEqualTo(nodes.get(2));
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aSecondMappingFollowsTheSameListWithTheOtherLoop(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 1 << 16)) {
            NodeList list = NodeList.create(r.heap(), 32);
            try (WriterLock.Held held = r.region().writerLock().hold()) {
                for (int i = 1; i <= 100; i++) {
                    list.add(i);
                }
            }
            try (SharedRegion again = r.openAgain()) {
                assertThat(again.isOffsetFallback()).isEqualTo(addressing == Addressing.DIRECT);
                assertThat(again.references().isDirect()).isFalse();
                NodeList other = NodeList.attach(again, list.root());
                assertThat(other.sum()).isEqualTo(5050);
                assertThat(other.advance(References.NULL, 150)).isEqualTo(list.advance(References.NULL, 150));
                assertThat(other.value(other.advance(other.first(), 41))).isEqualTo(42);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void writersMustHoldTheLockAndAttachChecksTheHeader(Addressing addressing) {
        try (Regions r = Regions.create(addressing, 1 << 16)) {
            RegionHeap heap = r.heap();
            NodeList list = NodeList.create(heap, 16);
            long node = list.newNode(1);
            assertThatThrownBy(() -> list.append(node)).isInstanceOf(IllegalStateException.class).hasMessageContaining("writerLock");
            assertThatThrownBy(() -> list.advance(References.NULL, 1)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> NodeList.create(heap, 12)).isInstanceOf(IllegalArgumentException.class);
            long hash = HashIndex.create(heap, 4).root();
            assertThatThrownBy(() -> NodeList.attach(r.region(), hash)).isInstanceOf(RegionException.class)
                .extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.INCOMPATIBLE_REGION);
            assertThat(NodeList.attach(r.region(), list.root()).nodeSize()).isEqualTo(16);
            r.region().close();
            assertThatThrownBy(list::first).isInstanceOf(IllegalStateException.class);
        }
    }
}
