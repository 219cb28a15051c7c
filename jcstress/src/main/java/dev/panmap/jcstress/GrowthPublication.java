package dev.panmap.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.Addressing;
import dev.panmap.internal.Header;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * How a grow is published, with the methods {@code SharedRegion} uses: the grower's
 * {@link Header#publishGrowth} (the current size, then the generation, each a release store) twice,
 * to generation 1 with 8 KiB and to generation 2 with 12 KiB; a process that looks (a
 * {@code segment()} after another process grew, or an attach) reads with {@link Header#growthAcquire}
 * (the generation, then the size, each an acquire load). It must never take a generation with a size
 * older than that generation's: it would record the generation, map the old size, and never look
 * again until the next grow.
 */
@JCStressTest
@Description("Growth publication: a reader never sees a generation with a size older than that generation's")
@Outcome(id = {"0, 0", "0, 8192", "0, 12288"}, expect = ACCEPTABLE, desc = "before the first grow's generation (a newer size is fine)")
@Outcome(id = {"1, 8192", "1, 12288"}, expect = ACCEPTABLE, desc = "generation 1 with its size or a newer one")
@Outcome(id = "2, 12288", expect = ACCEPTABLE, desc = "generation 2 with its size")
@Outcome(id = {"1, 0", "2, 0", "2, 8192"}, expect = FORBIDDEN, desc = "a generation with an older size: the process would stay behind")
@Outcome(expect = FORBIDDEN, desc = "a generation or size that no grow wrote")
@State
public class GrowthPublication {
    static final class Holder {
        static final TestRegion R = TestRegion.create(Addressing.OFFSET, 256);
    }

    private final Header header;

    public GrowthPublication() {
        header = new Header(Holder.R.segment(Holder.R.slab(true)));
    }

    @Actor
    public void grower() {
        header.publishGrowth(8192, 1);
        header.publishGrowth(12288, 2);
    }

    @Actor
    public void looker(JJ_Result r) {
        Header.Growth g = header.growthAcquire();
        r.r1 = g.generation();
        r.r2 = g.size();
    }
}
