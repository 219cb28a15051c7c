package dev.panmap.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.Addressing;
import dev.panmap.structures.RegionHeap;
import dev.panmap.structures.StructureLayout;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJJ_Result;

/**
 * {@link RegionHeap}: two threads allocate from one heap at once, with no lock (the bump word moves
 * by compare-and-set). Blocks of 8 and 24 bytes, so that an overlap shows even where the offsets
 * differ; the arbiter reads how much the heap handed out. Offsets are relative to the heap's first
 * byte.
 */
@JCStressTest
@Description("RegionHeap: concurrent allocations get disjoint blocks and the bump word counts both")
@Outcome(id = "0, 8, 32", expect = ACCEPTABLE, desc = "the 8-byte allocation first, the 24-byte one right after it")
@Outcome(id = "24, 0, 32", expect = ACCEPTABLE, desc = "the 24-byte allocation first, the 8-byte one right after it")
@Outcome(expect = FORBIDDEN, desc = "the same offset twice, overlapping blocks, or a lost bump (used != 32)")
@State
public class RegionHeapAllocation {
    static final class Holder {
        static final TestRegion R = TestRegion.create(Addressing.OFFSET, 128);
    }

    private final RegionHeap heap;
    private final long start;

    public RegionHeapAllocation() {
        long slab = Holder.R.slab();
        heap = RegionHeap.create(Holder.R.region(), slab, Holder.R.slabSize());
        start = slab + StructureLayout.Heap.SIZE;
    }

    @Actor
    public void small(JJJ_Result r) {
        r.r1 = heap.allocate(8) - start;
    }

    @Actor
    public void large(JJJ_Result r) {
        r.r2 = heap.allocate(24) - start;
    }

    @Arbiter
    public void used(JJJ_Result r) {
        r.r3 = heap.used();
    }
}
