package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.internal.RegionLayout;
import dev.panmap.testing.Names;
import org.junit.jupiter.api.Test;

/**
 * Issue 20: one span limit. On main's code the header check accepted a reserved span up to 64 TiB
 * while maxSize capped the data at 32 TiB without the header: two limits, neither the other's. Now
 * both are 32 TiB with the header (RegionLayout.MAX_RESERVED_SPAN, also in the C and Python
 * clients): a creation beyond it is refused before anything is made (main: the test's first
 * assertion failed, the region was created with a span past 32 TiB), and what is made opens.
 */
class SpanLimitTest {
    @Test
    void theMostARegionMaySpanIs32TiBWithItsHeaderForCreatorsAndAttachersAlike() {
        assertThat(RegionLayout.MAX_RESERVED_SPAN).isEqualTo(32L << 40);
        String name = Names.unique("span");
        assertThatThrownBy(() -> SharedRegion.create(name, RegionOptions.defaults().size(4096).maxSize(RegionLayout.MAX_RESERVED_SPAN)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than a region may span, " + (32L << 40) + " bytes");
        assertThatThrownBy(() -> SharedRegion.open(name)).as("nothing was made").isInstanceOf(RegionException.class);
        assertThatThrownBy(() -> RegionOptions.defaults().maxSize(RegionLayout.MAX_RESERVED_SPAN + 1)).isInstanceOf(IllegalArgumentException.class);

        long header = RegionLayout.headerSize(RegionLayout.DEFAULT_ATTACH_CAPACITY, 4096);
        try (SharedRegion most = SharedRegion.create(name, RegionOptions.defaults().size(4096).maxSize(RegionLayout.MAX_RESERVED_SPAN - header));
             SharedRegion again = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
            assertThat(most.reservedSpan()).isEqualTo(RegionLayout.MAX_RESERVED_SPAN);
            assertThat(again.reservedSpan()).isEqualTo(RegionLayout.MAX_RESERVED_SPAN);
        } finally {
            SharedRegion.remove(name);
        }
    }
}
