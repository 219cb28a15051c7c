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
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * What the README says of virtual threads, checked: a virtual thread that sleeps in
 * {@link RingConsumer#await} (a futex wait, a native call) keeps its carrier thread for the whole
 * wait, so with one carrier no other virtual thread runs meanwhile; one that polls with
 * {@link IdleStrategy#backoff()} parks between polls and gives its carrier away. Each case runs in a
 * child JVM whose virtual-thread scheduler has exactly one carrier (no compensation either), and
 * what is asserted is an order (which thread finished first), not a time.
 */
@LinuxOnly
class VirtualThreadWaitTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final long IDLE_MILLIS = 2000;

    @Test
    void awaitPinsItsCarrierAndBackoffDoesNot() {
        assertThat(whatRanFirst("await")).as("with one carrier, a second virtual thread runs only once await's futex wait has returned")
            .isEqualTo("idler");
        assertThat(whatRanFirst("backoff")).as("a second virtual thread runs while the first idles in backoff()").isEqualTo("other");
    }

    /**
     * {@return which finished first, the virtual thread that idled on an empty ring for {@link #IDLE_MILLIS}
     * as {@code mode} says ("idler"), or one started while it idled ("other")}: an order, not a time
     */
    private static String whatRanFirst(String mode) {
        String name = Names.unique("vthread");
        try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-Djdk.virtualThreadScheduler.parallelism=1",
            "-Djdk.virtualThreadScheduler.maxPoolSize=1"), Child.class, mode, name)) {
            return child.awaitPrefix("FIRST ", WAIT).trim();
        } finally {
            try {
                SharedRegion.remove(name); // the child may be stopped before its own remove runs
            } catch (RuntimeException alreadyGone) {
                // the child removed it
            }
        }
    }

    /** The child: one virtual thread idles on an empty ring, a second one is started meanwhile; prints which finished first. */
    public static final class Child {
        private Child() {}

        public static void main(String[] args) throws Exception {
            String mode = args[0];
            String name = args[1];
            try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16));
                 RingConsumer consumer = Ring.create(region, 0, Ring.Kind.ONE_TO_ONE, 4096).consumer()) {
                long idleNanos = IDLE_MILLIS * 1_000_000L;
                AtomicReference<String> first = new AtomicReference<>();
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
                    first.compareAndSet(null, "idler");
                });
                Thread.sleep(200); // the idler is mounted and idling (or queued first on the one carrier)
                Thread other = Thread.ofVirtual().start(() -> first.compareAndSet(null, "other"));
                other.join();
                idler.join();
                System.out.println("FIRST " + first.get());
            } finally {
                SharedRegion.remove(name);
            }
        }
    }
}
