package dev.panmap.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.structures.RegionHeap;
import dev.panmap.testing.LinuxOnly;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link dev.panmap.structures.NodeList} across processes: two reader processes follow the list and
 * spin on the next reference of the last node they reached; the writer process appends node i (value
 * {@code value(round, i)}) only once a reader waits on that very link. Forbidden: a linked node whose
 * value is not the one appended at its index (a node reachable before it was filled), or a finished
 * list that ends early.
 */
@LinuxOnly
class NodeListStressTest {
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aLinkedNodeIsAlwaysFilled(Addressing addressing) {
        try (StressRun run = StressRun.create("NodeList " + addressing, RegionOptions.defaults().size(256 << 20).addressing(addressing))) {
            RegionHeap.create(run.region, Control.AREA, run.region.size() - Control.AREA);
            run.start("list-writer", 0, "2");
            run.start("list-reader", 1);
            run.start("list-reader", 2);
            run.awaitHot();
            run.measure(StressRun.STRESS, () -> {});
            run.stop();
            run.verify();
            assertThat(run.total("list-reader", "checks")).as("linked nodes checked").isGreaterThan(10_000);
            assertThat(run.total("list-reader", "witnessed")).as("links a reader was waiting on as they were made").isGreaterThan(1_000);
        }
    }
}
