package dev.panmap.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.RegionOptions;
import dev.panmap.structures.RegionHeap;
import dev.panmap.testing.LinuxOnly;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link RegionHeap} across processes: three allocator processes allocate blocks of 8 to 64 bytes from
 * one heap at the same time (compare-and-set on the bump word) until it is full, each writing its tag
 * (round, owner, block start) into every word of every block it got, and check their own blocks at the
 * end of the round. Then this process walks the whole used range: it must be tiled exactly by the
 * blocks the allocators reported, each word holding the tag of the block it lies in. A new heap over
 * the same range for each round. Forbidden: two blocks overlapping (a word with another owner's tag),
 * a gap, a block nobody reported.
 */
@LinuxOnly
class RegionHeapStressTest {
    private static final int ALLOCATORS = 3;
    private static final long HEAP_BYTES = 4 << 20;

    @Test
    void concurrentAllocationsNeverOverlap() {
        try (StressRun run = StressRun.create("RegionHeap", RegionOptions.defaults().size(Control.AREA + HEAP_BYTES))) {
            Rounds rounds = new Rounds(run);
            rounds.open();
            for (int id = 1; id <= ALLOCATORS; id++) {
                run.start("heap-allocator", id);
            }
            run.awaitHot();
            run.measure(StressRun.STRESS, rounds::tick);
            run.stop();
            run.figure("rounds checked by walking the heap: " + rounds.checked + ", blocks: " + rounds.blocks + ", bytes: " + rounds.bytes);
            run.verify();
            // a floor on the work checked, not a speed: a loaded 2-core machine got 6 rounds in the measured 3 s
            assertThat(rounds.checked).as("rounds checked").isGreaterThanOrEqualTo(3);
            assertThat(run.total("heap-allocator", "blocks")).as("blocks allocated").isGreaterThan(100_000);
        }
    }

    /** Opens rounds and checks each one once every allocator is done with it. */
    private static final class Rounds {
        private final StressRun run;
        private final MemorySegment data;
        private long round;
        long checked;
        long blocks;
        long bytes;

        Rounds(StressRun run) {
            this.run = run;
            this.data = run.region.segment();
        }

        void open() {
            RegionHeap.create(run.region, Control.AREA, HEAP_BYTES);
            run.control.round(++round);
        }

        void tick() {
            for (int id = 1; id <= ALLOCATORS; id++) {
                if (run.control.progress(id) != round) {
                    return;
                }
            }
            check();
            if (!run.failed()) {
                open();
            }
        }

        /** Walks the heap of this round: blocks tile [start, bump) and each is one owner's, as reported. */
        private void check() {
            RegionHeap heap = RegionHeap.attach(run.region, Control.AREA);
            long start = Control.AREA + 64; // after the heap's header
            long end = start + heap.used();
            long[] ownerBlocks = new long[ALLOCATORS + 1];
            long[] ownerWords = new long[ALLOCATORS + 1];
            long at = start;
            while (at < end) {
                long tag = data.get(ValueLayout.JAVA_LONG, at);
                int owner = (int) ((tag >>> 48) & 0xFF);
                if (tag != StressChild.heapTag(round, owner, at) || owner < 1 || owner > ALLOCATORS) {
                    run.anomaly("RegionHeap: round " + round + ": the word at offset " + at + ", where a block should start, holds "
                        + describe(tag) + ": blocks overlap or leave a gap");
                    return;
                }
                long next = at + 8;
                while (next < end && data.get(ValueLayout.JAVA_LONG, next) == tag) {
                    next += 8;
                }
                if (next - at > 64 && !run.failed()) {
                    run.anomaly("RegionHeap: round " + round + ": the block of owner " + owner + " at offset " + at + " spans " + (next - at)
                        + " bytes, more than any allocation (64): blocks overlap");
                    return;
                }
                ownerBlocks[owner]++;
                ownerWords[owner] += (next - at) / 8;
                at = next;
            }
            for (int id = 1; id <= ALLOCATORS; id++) {
                long reported = run.control.aux(id);
                if (ownerBlocks[id] != reported >>> 32 || ownerWords[id] != (reported & 0xFFFF_FFFFL)) {
                    run.anomaly("RegionHeap: round " + round + ": owner " + id + " reported " + (reported >>> 32) + " blocks, "
                        + (reported & 0xFFFF_FFFFL) * 8 + " bytes; the heap holds " + ownerBlocks[id] + " blocks, " + ownerWords[id] * 8
                        + " bytes of it: blocks overlap");
                    return;
                }
                blocks += ownerBlocks[id];
                bytes += ownerWords[id] * 8;
            }
            checked++;
        }

        private String describe(long tag) {
            return "0x" + Long.toHexString(tag) + " (round " + ((tag >>> 56) & 0xFF) + ", owner " + ((tag >>> 48) & 0xFF) + ", block at "
                + (tag & 0xFFFF_FFFF_FFFFL) + ")";
        }
    }
}
