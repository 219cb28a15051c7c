package dev.panmap.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.structures.RegionHeap;
import dev.panmap.testing.LinuxOnly;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link dev.panmap.structures.HashIndex} across processes: a writer process announces each key just
 * before it puts it and waits until a reader process probes exactly that key; two readers spin on
 * {@code get(key)} while the put lands. Forbidden: the key present with any value but the one put
 * (e.g. 0, a key published before its value), or a key missing after its put returned.
 */
@LinuxOnly
class HashIndexStressTest {
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aReaderNeverSeesAKeyWithoutItsValue(Addressing addressing) {
        try (StressRun run = StressRun.create("HashIndex " + addressing, RegionOptions.defaults().size(256 << 20).addressing(addressing))) {
            RegionHeap.create(run.region, Control.AREA, run.region.size() - Control.AREA);
            run.start("hash-writer", 0, "2");
            run.start("hash-reader", 1);
            run.start("hash-reader", 2);
            run.awaitHot();
            run.measure(StressRun.STRESS, () -> {});
            run.stop();
            run.verify();
            assertThat(run.total("hash-reader", "checks")).as("probes of the key being put").isGreaterThan(100_000);
            assertThat(run.total("hash-reader", "witnessed")).as("puts a reader saw land (absent, then present)")
                .isGreaterThan(100); // a floor on the work checked, not a speed: 920 in 3 s on a loaded 2-core machine
        }
    }
}
