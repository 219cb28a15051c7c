package dev.panmap.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.structures.RegionHeap;
import dev.panmap.testing.LinuxOnly;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link dev.panmap.structures.SkipList} across processes: a writer process announces each key just
 * before it puts it (keys in scattered order, so new nodes land all over the list) and waits until a
 * reader process probes it; two readers spin on {@code floorKey}, {@code get} and {@code ceilingKey}
 * of that key and walk the keys around it in order. Forbidden: a key present with any value but the
 * one put; a key or order no put made; a key found and then lost (by a later lookup or the ordered
 * iteration); a key missing after its put returned; and the two bugs this test found and SkipList
 * fixed ({@code stale-successor}, {@code top-level-zero}: see {@code StressChild.SkipReader}).
 */
@LinuxOnly
class SkipListStressTest {
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void readersNeverSeeAHalfLinkedNode(Addressing addressing) {
        try (StressRun run = StressRun.create("SkipList " + addressing, RegionOptions.defaults().size(256 << 20).addressing(addressing))) {
            RegionHeap.create(run.region, Control.AREA, run.region.size() - Control.AREA);
            run.start("skip-writer", 0, "2");
            run.start("skip-reader", 1);
            run.start("skip-reader", 2);
            run.awaitHot();
            run.measure(StressRun.STRESS, () -> {});
            run.stop();
            run.verify();
            assertThat(run.total("skip-reader", "checks")).as("lookups of the key being put").isGreaterThan(100_000);
            assertThat(run.total("skip-reader", "walked")).as("nodes met by ordered iteration around it").isGreaterThan(100_000);
            assertThat(run.total("skip-reader", "witnessed")).as("puts a reader saw land (absent, then present)").isGreaterThan(200);
        }
    }
}
