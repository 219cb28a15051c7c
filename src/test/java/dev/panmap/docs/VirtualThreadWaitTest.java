package dev.panmap.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.ipc.IdleStrategy;
import dev.panmap.ipc.Ring;
import dev.panmap.ipc.RingConsumer;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the README says of virtual threads, checked: a virtual thread that sleeps in
 * {@link RingConsumer#await} (a futex wait, a native call) keeps its carrier thread for the whole
 * wait, so with one carrier no other virtual thread runs meanwhile; one that polls with
 * {@link IdleStrategy#backoff()} parks between polls and gives its carrier away. Each case runs in a
 * child JVM whose virtual-thread scheduler has exactly one carrier.
 */
@LinuxOnly
class VirtualThreadWaitTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final long IDLE_MILLIS = 2000;

    @Test
    void awaitPinsItsCarrierAndBackoffDoesNot() {
        long pinned = otherThreadsDelay("await");
        long parked = otherThreadsDelay("backoff");
        assertThat(pinned).as("a second virtual thread waits until await's futex wait (%d ms) returns", IDLE_MILLIS)
            .isGreaterThan(IDLE_MILLIS * 3 / 4);
        assertThat(parked).as("a second virtual thread runs while the first idles in backoff()").isLessThan(IDLE_MILLIS / 2);
    }

    /** {@return how long, in ms, another virtual thread waited to run while one idled on an empty ring as {@code mode} says} */
    private static long otherThreadsDelay(String mode) {
        try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-Djdk.virtualThreadScheduler.parallelism=1",
            "-Djdk.virtualThreadScheduler.maxPoolSize=1"), Child.class, mode, Names.unique("vthread"))) {
            return Long.parseLong(child.awaitPrefix("DELAY ", WAIT).trim());
        }
    }

    /** The child: one virtual thread idles on an empty ring, a second one is started and timed. */
    public static final class Child {
        private Child() {}

        public static void main(String[] args) throws Exception {
            String mode = args[0];
            String name = args[1];
            try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16));
                 RingConsumer consumer = Ring.create(region, 0, Ring.Kind.ONE_TO_ONE, 4096).consumer()) {
                long idleNanos = IDLE_MILLIS * 1_000_000L;
                Thread idler = Thread.ofVirtual().start(() -> {
                    if (mode.equals("await")) {
                        consumer.await(idleNanos);
                    } else {
                        IdleStrategy idle = IdleStrategy.backoff();
                        long end = System.nanoTime() + idleNanos;
                        while (System.nanoTime() < end) {
                            idle.idle(consumer.read((type, buffer, offset, length) -> { }, 1));
                        }
                    }
                });
                Thread.sleep(200); // the idler is mounted and idling
                long[] ranAt = new long[1];
                long started = System.nanoTime();
                Thread other = Thread.ofVirtual().start(() -> ranAt[0] = System.nanoTime());
                other.join();
                idler.join();
                System.out.println("DELAY " + (ranAt[0] - started) / 1_000_000);
            } finally {
                SharedRegion.remove(name);
            }
        }
    }
}
