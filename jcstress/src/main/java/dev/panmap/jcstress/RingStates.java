package dev.panmap.jcstress;

import dev.panmap.Addressing;
import dev.panmap.ipc.Ring;
import dev.panmap.ipc.RingConsumer;
import dev.panmap.ipc.RingProducer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * What the ring tests share: one region of 2 KiB slabs per test VM (a ring of 1 KiB with its
 * control block and two producer entries fits one), and the payloads they send: four words of one
 * value, so that a torn copy shows as words that disagree.
 */
final class RingStates {
    private RingStates() {}

    static final class Holder {
        static final TestRegion R = TestRegion.create(Addressing.OFFSET, 2048);
    }

    /** {@return a fresh slab's data offset} (the rings zero what they take) */
    static long slab() {
        return Holder.R.slab();
    }

    static TestRegion region() {
        return Holder.R;
    }

    private static final MemorySegment[] WORDS = new MemorySegment[64];

    static {
        for (int v = 0; v < WORDS.length; v++) {
            WORDS[v] = Arena.global().allocate(32, 8);
            for (int k = 0; k < 4; k++) {
                WORDS[v].setAtIndex(ValueLayout.JAVA_LONG, k, v);
            }
        }
    }

    /** {@return four words of {@code v} (0 ≤ v < 64), shared and never written} */
    static MemorySegment words(int v) {
        return WORDS[v];
    }

    /** {@return the payload's value if its four words agree, else -1 (torn)} */
    static long value(MemorySegment buffer, long offset, int length) {
        if (length != 32) {
            return -2;
        }
        long w = buffer.get(ValueLayout.JAVA_LONG, offset);
        for (int k = 1; k < 4; k++) {
            if (buffer.get(ValueLayout.JAVA_LONG, offset + 8L * k) != w) {
                return -1;
            }
        }
        return w;
    }

    /**
     * A fresh ring of 1 KiB in a slab with its producer (entry 0) and consumer registered; {@code setup}
     * sees the ring's control block first (positions, a dead entry). {@link #close} gives both places
     * back (an {@code @Arbiter} calls it).
     */
    abstract static class Pair {
        final Ring ring;
        final RingProducer producer;
        final RingConsumer consumer;

        Pair(Ring.Kind kind, int producers, boolean signalling, Duration grace, Consumer<MemorySegment> setup) {
            long slab = slab();
            ring = Ring.create(region().region(), slab, kind, 1024, producers);
            setup.accept(region().region().segment().asSlice(slab, 1024));
            producer = ring.producer(signalling);
            consumer = ring.consumer(grace);
        }

        void close() {
            producer.close();
            consumer.close();
        }
    }
}
