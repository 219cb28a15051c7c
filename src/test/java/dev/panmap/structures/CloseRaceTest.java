package dev.panmap.structures;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import dev.panmap.testing.Names;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Closing a region while another thread chases pointers through it: the DIRECT fast path reads
 * through an unbounded segment, so the region leaves a read-only zero reservation behind instead of
 * unmapped memory; the racing thread ends with an IllegalStateException, never a fault.
 */
class CloseRaceTest {
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aChaseRacingWithCloseEndsWithAnExceptionNotACrash(Addressing addressing) throws Exception {
        for (int round = 0; round < 5; round++) {
            String name = Names.unique("close-race");
            SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20).addressing(addressing));
            long base = region.baseAddress();
            try {
                NodeList list = NodeList.create(RegionHeap.create(region, 0, region.size()), 64);
                try (WriterLock.Held held = region.writerLock().hold()) {
                    for (int i = 0; i < 10_000; i++) {
                        list.add(i);
                    }
                }
                CountDownLatch chasing = new CountDownLatch(1);
                AtomicReference<Throwable> ended = new AtomicReference<>();
                Thread chaser = new Thread(() -> {
                    try {
                        long n = list.first();
                        while (true) {
                            n = list.advance(n, 100_000);
                            chasing.countDown();
                        }
                    } catch (Throwable t) {
                        ended.set(t);
                    }
                });
                chaser.start();
                chasing.await();
                region.close();
                chaser.join(30_000);
                assertThat(chaser.isAlive()).isFalse();
                assertThat(ended.get()).isInstanceOf(IllegalStateException.class);
            } finally {
                region.close();
                SharedRegion.remove(name);
            }
            if (addressing == Addressing.DIRECT) { // the reservation is reused: the next region gets the same base
                try (SharedRegion again = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20).addressing(addressing))) {
                    assertThat(again.baseAddress()).isEqualTo(base);
                } finally {
                    SharedRegion.remove(name);
                }
            }
        }
    }
}
