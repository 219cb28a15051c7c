package dev.panmap.bench;

import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.ipc.Ring;
import dev.panmap.ipc.RingConsumer;
import dev.panmap.ipc.RingProducer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * A driver for reading C2's code of the rings' hot paths (ring-asm.sh): a producer thread and a
 * consumer thread of one JVM pass 32-byte messages through a panmap one-to-one ring and an Agrona
 * one-to-one ring in the same region, long enough for C2 to compile {@code RingBench.produce} (both
 * forms), {@code RingConsumer.read} and Agrona's {@code OneToOneRingBuffer.read}. With the argument
 * {@code both}, each round also passes as many messages through a many-to-one ring with the same
 * {@code produce}: the producer's profile then holds both kinds of claim, as in RingBench's first
 * child, which produces on both kinds.
 */
public final class RingAsm {
    public static void main(String[] args) throws Exception {
        String name = "/panmap-bench-ringasm-" + ProcessHandle.current().pid();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(4 << 20))) {
            boolean both = args.length > 0 && args[0].equals("both");
            Ring ring = Ring.create(region, 0, Ring.Kind.ONE_TO_ONE, 256 << 10);
            Ring many = Ring.create(region, 2 << 20, Ring.Kind.MANY_TO_ONE, 256 << 10, 2);
            int length = (256 << 10) + RingBufferDescriptor.TRAILER_LENGTH;
            RingBuffer agrona = new OneToOneRingBuffer(new UnsafeBuffer(region.address(1 << 20), length));
            RingBench.Sum panmapHandler = new RingBench.Sum(); // RingBench's handler: every word of the payload summed
            RingBench.Sum agronaHandler = new RingBench.Sum();
            try (RingProducer producer = ring.producer(false); RingConsumer consumer = ring.consumer();
                 RingProducer manyProducer = many.producer(false); RingConsumer manyConsumer = many.consumer()) {
                for (int round = 0; round < 20; round++) {
                    long n = 500_000;
                    Thread p = Thread.ofPlatform().start(() -> RingBench.produce(producer, 32, n));
                    long got = 0;
                    while (got < n) {
                        got += consumer.read(panmapHandler, 256);
                    }
                    p.join();
                    if (both) {
                        Thread m = Thread.ofPlatform().start(() -> RingBench.produce(manyProducer, 32, n));
                        got = 0;
                        while (got < n) {
                            got += manyConsumer.read(panmapHandler, 256);
                        }
                        m.join();
                    }
                    Thread a = Thread.ofPlatform().start(() -> RingBench.produce(agrona, 32, n));
                    got = 0;
                    while (got < n) {
                        got += agrona.read(agronaHandler, 256);
                    }
                    a.join();
                }
            }
            System.out.println("sum " + panmapHandler.sum + " " + agronaHandler.sum);
        } finally {
            SharedRegion.remove(name);
        }
    }

}
