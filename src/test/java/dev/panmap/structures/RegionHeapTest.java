package dev.panmap.structures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class RegionHeapTest {
    @Test
    void handsOutAlignedDisjointBlocksUntilFull() {
        try (Regions r = Regions.create(Addressing.OFFSET, 4096)) {
            RegionHeap heap = RegionHeap.create(r.region(), 64, 1024);
            long a = heap.allocate(1);
            long b = heap.allocate(13);
            long c = heap.allocate(8);
            assertThat(a).isEqualTo(64 + StructureLayout.Heap.SIZE);
            assertThat(b).isEqualTo(a + 8);
            assertThat(c).isEqualTo(b + 16);
            assertThat(heap.used()).isEqualTo(32);
            assertThat(heap.remaining()).isEqualTo(1024 - StructureLayout.Heap.SIZE - 32);
            assertThatThrownBy(() -> heap.allocate(2000)).isInstanceOf(RegionException.class)
                .hasMessageContaining("is full").extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.NO_SPACE);
            heap.allocate(heap.remaining()); // exactly the rest fits
            assertThat(heap.remaining()).isZero();
            assertThat(RegionHeap.attach(r.region(), 64).used()).isEqualTo(heap.used());
        }
    }

    @Test
    void attachRefusesWhatIsNotAHeap() {
        try (Regions r = Regions.create(Addressing.OFFSET, 4096)) {
            assertThatThrownBy(() -> RegionHeap.attach(r.region(), 128)).isInstanceOf(RegionException.class)
                .hasMessageContaining("no heap at data offset 128").extracting(e -> ((RegionException) e).kind())
                .isEqualTo(ErrorKind.INCOMPATIBLE_REGION);
            RegionHeap.create(r.region(), 128, 256);
            r.region().segment().set(java.lang.foreign.ValueLayout.JAVA_INT, 128 + 8, 99);
            assertThatThrownBy(() -> RegionHeap.attach(r.region(), 128)).hasMessageContaining("layout version 99");
            assertThatThrownBy(() -> RegionHeap.create(r.region(), 4000, 256)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> RegionHeap.attach(r.region(), 3)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void threadsAllocateConcurrentlyWithoutOverlap() throws Exception {
        try (Regions r = Regions.create(Addressing.OFFSET, 1 << 20)) {
            RegionHeap heap = r.heap();
            Set<Long> blocks = ConcurrentHashMap.newKeySet();
            CountDownLatch go = new CountDownLatch(1);
            Thread[] threads = new Thread[4];
            for (int t = 0; t < threads.length; t++) {
                threads[t] = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    for (int i = 0; i < 5000; i++) {
                        blocks.add(heap.allocate(24));
                    }
                });
                threads[t].start();
            }
            go.countDown();
            for (Thread t : threads) {
                t.join();
            }
            assertThat(blocks).hasSize(20000);
            assertThat(heap.used()).isEqualTo(20000L * 24);
        }
    }

    /**
     * Issue 20: a forged next-block word (before the heap, or its end past the data area) would hand out
     * a block over other data, or one the segment refuses only when written: it is CORRUPT_REGION at
     * allocate. On main's code allocate returned the forged offset.
     */
    @Test
    void aForgedBumpOrEndIsCorruptNotHandedOut() {
        try (Regions r = Regions.create(Addressing.OFFSET, 4096)) {
            RegionHeap heap = RegionHeap.create(r.region(), 64, 1024);
            java.lang.foreign.MemorySegment data = r.region().segment();
            for (long[] forged : new long[][] {{StructureLayout.Heap.BUMP_OFFSET, 8}, {StructureLayout.Heap.BUMP_OFFSET, -4096},
                                                {StructureLayout.Heap.BUMP_OFFSET, 64 + StructureLayout.Heap.SIZE + 3},
                                                {StructureLayout.Heap.END_OFFSET, 1L << 40}}) {
                RegionHeap fresh = RegionHeap.create(r.region(), 64, 1024);
                data.set(java.lang.foreign.ValueLayout.JAVA_LONG, 64 + forged[0], forged[1]);
                assertThatThrownBy(() -> fresh.allocate(8)).as("offset %d = %d", forged[0], forged[1]).isInstanceOf(RegionException.class)
                    .hasMessageContaining("the heap at data offset 64").hasMessageContaining("is damaged")
                    .extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.CORRUPT_REGION);
            }
            assertThat(heap.root()).isEqualTo(64);
        }
    }
}
