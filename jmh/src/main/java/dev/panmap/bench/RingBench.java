package dev.panmap.bench;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.ipc.IdleStrategy;
import dev.panmap.ipc.MessageHandler;
import dev.panmap.ipc.Ring;
import dev.panmap.ipc.RingConsumer;
import dev.panmap.ipc.RingProducer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * panmap's rings against Agrona's over the same shared mapping, and against their C twin
 * ({@code c/ring.c}), paired: every round runs every variant of every row once, in an order rotated
 * by the round, and {@code ring.py} takes the ratios per round with their intervals.
 *
 * <p>One shm region holds panmap's rings and Agrona's buffers (an {@link UnsafeBuffer} over the
 * region's address), all with 256 KiB of buffer. This JVM is the consumer (its measuring thread
 * pinned to the first CPU); two child JVMs are the producers (each pinned to the second CPU: with two
 * CPUs, the two producers of a many-to-one row share one). Rows:
 * <ul>
 * <li><b>throughput</b> ({@code ring-throughput}): one-to-one and many-to-one (two producer
 *     processes), 32- and 256-byte messages: messages per second at the consumer, from the end of its
 *     first batch to the last message; each message is claimed, every 8-byte word of its payload
 *     written (word k = sequence number + k), committed; the consumer reads every word into a sum it
 *     checks at the end. The C twin does exactly this work ({@code fill}, {@code payload_sum}). Variants: {@code panmap} (producers without
 *     signalling, as Agrona's, which cannot wake anyone), {@code panmap-signalling} (the default: a
 *     full fence and a look at the consumer's sleeping flag per commit), {@code agrona}, {@code c}.
 * <li><b>latency</b> ({@code ring-latency}): a ping ring and a pong ring (panmap's with the default,
 *     signalling producers), 32-byte messages, every word written and read as above, one round
 *     trip between two clock reads, into an HdrHistogram: p50, p99, p99.9, p99.99, max.
 * <li><b>wake-up</b> ({@code ring-wake}): after a warm-up of 2 x 4000 messages 20 µs apart (so that
 *     C2 has compiled both sides' sleep and wake paths), a producer sends a message carrying its clock every 2 ms
 *     (CLOCK_MONOTONIC, the same clock in both JVMs); the consumer sleeps in the kernel
 *     ({@code futex}: {@link RingConsumer#await}) or polls with a spin-yield-park back-off
 *     ({@code park}: {@link IdleStrategy#backoff()}, parks of 1 µs doubling to 1 ms), and records
 *     receipt minus send time.
 * <li><b>allocation</b> ({@code ring-alloc}): bytes allocated per message by the producer's and the
 *     consumer's thread during the throughput runs ({@code ThreadMXBean}, the counter JMH's
 *     {@code -prof gc} reads).
 * </ul>
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.panmap.bench.RingBench ROUNDS COUNT LATENCY WAKE C_BINARY
 * </pre>
 */
public final class RingBench {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final long CAPACITY = 256 << 10;
    private static final long SMALL = 64 << 10;
    // data offsets in the region
    private static final long CONTROL = 0; // 2 x 256 bytes: one control block per child
    private static final long P_ONE = 1L << 20;
    private static final long P_MANY = 2L << 20;
    private static final long A_ONE = 3L << 20;
    private static final long A_MANY = 4L << 20;
    private static final long P_PING = 5L << 20;
    private static final long P_PONG = P_PING + (512 << 10);
    private static final long A_PING = 6L << 20;
    private static final long A_PONG = A_PING + (512 << 10);
    private static final long P_WAKE = 7L << 20;
    private static final long REGION = 8L << 20;
    // control block
    private static final long CMD = 0;
    private static final long OP = 8;
    private static final long SIZE = 16;
    private static final long COUNT = 24;
    private static final long ACK = 32;
    private static final long ALLOC = 40;
    private static final long STATUS = 48;
    // ops
    private static final int EXIT = 0;
    private static final int P_ONE_PRODUCE = 1;
    private static final int P_ONE_PRODUCE_SIGNAL = 2;
    private static final int A_ONE_PRODUCE = 3;
    private static final int P_MANY_PRODUCE = 4;
    private static final int P_MANY_PRODUCE_SIGNAL = 5;
    private static final int A_MANY_PRODUCE = 6;
    private static final int P_PONG_OP = 7;
    private static final int A_PONG_OP = 8;
    private static final int WAKE_SEND = 9;
    private static final int LAT_SIZE = 32;

    public static void main(String[] args) throws Exception {
        if (args[0].equals("child")) {
            child(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            return;
        }
        new RingBench(Integer.parseInt(args[0]), Long.parseLong(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
            args[4]).run();
    }

    private final int rounds;
    private final long count;
    private final int latency;
    private final int wake;
    private final String cBinary;
    private final String name = "/panmap-bench-ring-" + ProcessHandle.current().pid();
    private MemorySegment data;
    private final long[] commands = new long[2];

    private RingBench(int rounds, long count, int latency, int wake, String cBinary) {
        this.rounds = rounds;
        this.count = count;
        this.latency = latency;
        this.wake = wake;
        this.cBinary = cBinary;
    }

    private int[] cpus;

    private void run() throws Exception {
        cpus = PingPong.allowedCpus();
        int consumerCpu = cpus.length >= 2 ? cpus[0] : -1;
        int producerCpu = cpus.length >= 2 ? cpus[1] : -1;
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(REGION))) {
            data = region.segment();
            Ring pOne = Ring.create(region, P_ONE, Ring.Kind.ONE_TO_ONE, CAPACITY);
            Ring pMany = Ring.create(region, P_MANY, Ring.Kind.MANY_TO_ONE, CAPACITY, 8);
            Ring.create(region, P_PING, Ring.Kind.ONE_TO_ONE, SMALL);
            Ring pPong = Ring.create(region, P_PONG, Ring.Kind.ONE_TO_ONE, SMALL);
            Ring pWake = Ring.create(region, P_WAKE, Ring.Kind.ONE_TO_ONE, SMALL);
            RingBuffer aOne = new OneToOneRingBuffer(agrona(region, A_ONE, CAPACITY));
            RingBuffer aMany = new ManyToOneRingBuffer(agrona(region, A_MANY, CAPACITY));
            agrona(region, A_PING, SMALL);
            RingBuffer aPong = new OneToOneRingBuffer(agrona(region, A_PONG, SMALL));
            List<Process> children = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                children.add(startChild(i, producerCpu));
            }
            try {
                boolean pinned = consumerCpu >= 0 && PingPong.pinThisThread(consumerCpu);
                for (int i = 0; i < 2; i++) {
                    while ((long) LONG.getAcquire(data, CONTROL + 256L * i + STATUS) == 0) {
                        if (!children.get(i).isAlive()) {
                            throw new IllegalStateException("child " + i + " exited " + children.get(i).exitValue());
                        }
                        Thread.sleep(1);
                    }
                    pinned &= (long) LONG.getAcquire(data, CONTROL + 256L * i + STATUS) == 1;
                }
                System.out.println("{\"bench\":\"ring-setup\",\"pinned\":" + pinned + ",\"capacity\":" + CAPACITY + ",\"rounds\":" + rounds
                    + ",\"count\":" + count + ",\"latency\":" + latency + ",\"wake\":" + wake + "}");
                try (RingConsumer one = pOne.consumer(); RingConsumer many = pMany.consumer(); RingConsumer pong = pPong.consumer();
                     RingConsumer wakeConsumer = pWake.consumer();
                     RingProducer ping = Ring.attach(region, P_PING).producer()) { // the default producer, as users get it
                    RingBuffer aPing = new OneToOneRingBuffer(agrona(region, A_PING, SMALL, false));
                    warmUp(one, many, aOne, aMany, ping, pong, aPing, aPong);
                    for (int r = 0; r < rounds; r++) {
                        round(r, one, many, aOne, aMany, ping, pong, aPing, aPong);
                    }
                    wakeUp(wakeConsumer);
                }
                for (int i = 0; i < 2; i++) {
                    command(i, EXIT, 0, 0);
                }
            } finally {
                for (Process p : children) {
                    if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                }
                SharedRegion.remove(name);
            }
        }
    }

    private static UnsafeBuffer agrona(SharedRegion region, long offset, long capacity) {
        return agrona(region, offset, capacity, true);
    }

    /** An Agrona ring buffer's memory (capacity and its trailer) at a data offset of the region, zeroed first if asked. */
    private static UnsafeBuffer agrona(SharedRegion region, long offset, long capacity, boolean zero) {
        int length = (int) capacity + RingBufferDescriptor.TRAILER_LENGTH;
        if (zero) {
            region.segment().asSlice(offset, length).fill((byte) 0);
        }
        return new UnsafeBuffer(region.address(offset), length);
    }

    // ------------------------------------------------------------------ the parent: consumer and clock

    private void warmUp(RingConsumer one, RingConsumer many, RingBuffer aOne, RingBuffer aMany, RingProducer ping,
                        RingConsumer pong, RingBuffer aPing, RingBuffer aPong) throws Exception {
        for (int k = 0; k < 3; k++) {
            for (int size : new int[] {32, 256}) {
                throughput(-1, "one-to-one", size, "panmap", P_ONE_PRODUCE, 1, one, null);
                throughput(-1, "one-to-one", size, "panmap-signalling", P_ONE_PRODUCE_SIGNAL, 1, one, null);
                throughput(-1, "one-to-one", size, "agrona", A_ONE_PRODUCE, 1, null, aOne);
                throughput(-1, "many-to-one", size, "panmap", P_MANY_PRODUCE, 2, many, null);
                throughput(-1, "many-to-one", size, "panmap-signalling", P_MANY_PRODUCE_SIGNAL, 2, many, null);
                throughput(-1, "many-to-one", size, "agrona", A_MANY_PRODUCE, 2, null, aMany);
            }
            latencyPanmap(-1, ping, pong);
            latencyAgrona(-1, aPing, aPong);
        }
    }

    private void round(int r, RingConsumer one, RingConsumer many, RingBuffer aOne, RingBuffer aMany, RingProducer ping,
                       RingConsumer pong, RingBuffer aPing, RingBuffer aPong) throws Exception {
        for (String kind : List.of("one-to-one", "many-to-one")) {
            for (int size : new int[] {32, 256}) {
                boolean m = kind.equals("many-to-one");
                List<Runnable> variants = new ArrayList<>(List.of(
                    () -> throughput(r, kind, size, "panmap", m ? P_MANY_PRODUCE : P_ONE_PRODUCE, m ? 2 : 1, m ? many : one, null),
                    () -> throughput(r, kind, size, "panmap-signalling", m ? P_MANY_PRODUCE_SIGNAL : P_ONE_PRODUCE_SIGNAL, m ? 2 : 1,
                        m ? many : one, null),
                    () -> throughput(r, kind, size, "agrona", m ? A_MANY_PRODUCE : A_ONE_PRODUCE, m ? 2 : 1, null, m ? aMany : aOne),
                    () -> external(r, "tput", kind, Integer.toString(size), Long.toString(count))));
                rotate(variants, r);
            }
        }
        List<Runnable> lat = new ArrayList<>(List.of(
            () -> latencyPanmap(r, ping, pong),
            () -> latencyAgrona(r, aPing, aPong),
            () -> external(r, "lat", Integer.toString(LAT_SIZE), Integer.toString(latency))));
        rotate(lat, r);
    }

    private static void rotate(List<Runnable> variants, int r) {
        for (int i = 0; i < variants.size(); i++) {
            variants.get((i + r) % variants.size()).run();
        }
    }

    /**
     * Sums every 8-byte word of each message: the consumer's work, the same in panmap's, Agrona's and
     * the C twin's handler ({@code payload_sum} in c/ring.c).
     */
    static final class Sum implements MessageHandler, org.agrona.concurrent.MessageHandler {
        long sum;
        long n;

        @Override
        public void onMessage(int type, MemorySegment buffer, long offset, int length) {
            long s = 0;
            for (long o = offset, end = offset + length; o < end; o += 8) {
                s += buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, o);
            }
            sum += s;
            n++;
        }

        @Override
        public void onMessage(int type, org.agrona.MutableDirectBuffer buffer, int index, int length) {
            long s = 0;
            for (int i = index, end = index + length; i < end; i += 8) {
                s += buffer.getLong(i);
            }
            sum += s;
            n++;
        }
    }

    /** The producer's work, as the C twin's {@code fill}: every 8-byte word of the payload written, word k = seq + k. */
    static void fill(MemorySegment buffer, long at, int size, long seq) {
        for (int k = 0; k < size / 8; k++) {
            buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 8L * k, seq + k);
        }
    }

    static void fill(org.agrona.concurrent.AtomicBuffer buffer, int at, int size, long seq) {
        for (int k = 0; k < size / 8; k++) {
            buffer.putLong(at + 8 * k, seq + k);
        }
    }

    /** {@return what {@link Sum} must hold after {@code n} messages of {@code size} bytes numbered 0 .. n - 1} */
    static long expectedSum(long n, int size) {
        long w = size / 8;
        return w * (n * (n - 1) / 2) + n * (w * (w - 1) / 2);
    }

    private final Sum sum = new Sum();

    private void throughput(int round, String kind, int size, String variant, int op, int producers, RingConsumer panmap, RingBuffer agrona) {
        long perProducer = count / producers;
        long total = perProducer * producers;
        sum.sum = 0;
        sum.n = 0;
        for (int i = 0; i < producers; i++) {
            command(i, op, size, perProducer);
        }
        long checks = panmap != null ? panmap.livenessChecks() : 0;
        long allocated = allocated();
        long t0 = 0;
        long n0 = 0;
        while (sum.n < total) {
            int n = panmap != null ? panmap.read(sum, 256) : agrona.read(sum, 256);
            if (n > 0 && t0 == 0) {
                t0 = System.nanoTime();
                n0 = sum.n;
            } else if (n == 0) {
                Thread.onSpinWait();
            }
        }
        long t1 = System.nanoTime();
        long consumerBytes = allocated() - allocated;
        checks = panmap != null ? panmap.livenessChecks() - checks : 0;
        long producerBytes = 0;
        for (int i = 0; i < producers; i++) {
            producerBytes += awaitAck(i);
        }
        long expected = producers * expectedSum(perProducer, size);
        if (sum.sum != expected) {
            throw new IllegalStateException(variant + " " + kind + " " + size + ": checksum " + sum.sum + ", expected " + expected);
        }
        if (round >= 0) {
            System.out.printf(Locale.ROOT, "{\"bench\":\"ring-throughput\",\"variant\":\"%s\",\"kind\":\"%s\",\"size\":%d,\"round\":%d,"
                    + "\"count\":%d,\"msgs_per_s\":%.0f,\"consumer_bytes_per_msg\":%.4f,\"producer_bytes_per_msg\":%.4f,"
                    + "\"liveness_checks\":%d}%n",
                variant, kind, size, round, total, (total - n0) * 1e9 / (t1 - t0), consumerBytes / (double) total,
                producerBytes / (double) total, checks);
        }
    }

    private void latencyPanmap(int round, RingProducer ping, RingConsumer pong) {
        command(0, P_PONG_OP, LAT_SIZE, latency);
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        MemorySegment buffer = ping.buffer();
        Sum got = new Sum();
        for (int i = 0; i < latency; i++) {
            long t0 = System.nanoTime();
            long at;
            while ((at = ping.tryClaim(1, LAT_SIZE)) < 0) {
                Thread.onSpinWait();
            }
            fill(buffer, at, LAT_SIZE, i);
            ping.commit(at);
            while (pong.read(got, 1) == 0) {
                Thread.onSpinWait();
            }
            h.recordValue(System.nanoTime() - t0);
        }
        awaitAck(0);
        checkPongs(got, "panmap");
        latencyRecord(round, "panmap", h);
    }

    private void latencyAgrona(int round, RingBuffer ping, RingBuffer pong) {
        command(0, A_PONG_OP, LAT_SIZE, latency);
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        org.agrona.concurrent.AtomicBuffer buffer = ping.buffer();
        Sum got = new Sum();
        for (int i = 0; i < latency; i++) {
            long t0 = System.nanoTime();
            int at;
            while ((at = ping.tryClaim(1, LAT_SIZE)) < 0) {
                Thread.onSpinWait();
            }
            fill(buffer, at, LAT_SIZE, i);
            ping.commit(at);
            while (pong.read(got, 1) == 0) {
                Thread.onSpinWait();
            }
            h.recordValue(System.nanoTime() - t0);
        }
        awaitAck(0);
        checkPongs(got, "agrona");
        latencyRecord(round, "agrona", h);
    }

    /** The pong of ping i carries the sum of ping i's words in its own (as the C twin's): their sum, checked. */
    private void checkPongs(Sum got, String variant) {
        long w = LAT_SIZE / 8;
        long expected = w * expectedSum(latency, LAT_SIZE) + latency * (w * (w - 1) / 2);
        if (got.sum != expected) {
            throw new IllegalStateException(variant + " round trip: checksum " + got.sum + ", expected " + expected);
        }
    }

    private void latencyRecord(int round, String variant, Histogram h) {
        if (round >= 0) {
            System.out.printf(Locale.ROOT, "{\"bench\":\"ring-latency\",\"variant\":\"%s\",\"size\":%d,\"round\":%d,\"count\":%d,"
                    + "\"p50_ns\":%d,\"p99_ns\":%d,\"p999_ns\":%d,\"p9999_ns\":%d,\"max_ns\":%d}%n",
                variant, LAT_SIZE, round, h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getValueAtPercentile(99.99), h.getMaxValue());
        }
    }

    /** The consumer asleep on the futex, then polling with a back-off, alternately, {@code wake} messages each. */
    private void wakeUp(RingConsumer consumer) {
        long[] stamp = {0};
        MessageHandler take = (type, buffer, offset, length) -> stamp[0] = buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
        for (int r = -2; r < 4; r++) { // rounds -2 and -1 warm both paths up (C2 compiles the sleep and the wake): not recorded
            external(r, "wake", Integer.toString(wake));
            for (String variant : (r & 1) == 0 ? List.of("futex", "park") : List.of("park", "futex")) {
                boolean futex = variant.equals("futex");
                Histogram h = new Histogram(3_600_000_000_000L, 3);
                IdleStrategy idle = IdleStrategy.backoff();
                int n = r < 0 ? 4000 : wake;
                command(0, WAKE_SEND, r < 0 ? 20 : 2000, n);
                for (int i = 0; i < n; i++) {
                    while (consumer.read(take, 1) == 0) {
                        if (futex) {
                            consumer.await(-1);
                        } else {
                            idle.idle(0);
                        }
                    }
                    idle.reset();
                    h.recordValue(Math.max(0, System.nanoTime() - stamp[0]));
                }
                awaitAck(0);
                if (r < 0) {
                    continue;
                }
                System.out.printf(Locale.ROOT, "{\"bench\":\"ring-wake\",\"variant\":\"%s\",\"round\":%d,\"count\":%d,\"p50_ns\":%d,"
                        + "\"p90_ns\":%d,\"p99_ns\":%d,\"max_ns\":%d}%n", variant, r, h.getTotalCount(), h.getValueAtPercentile(50),
                    h.getValueAtPercentile(90), h.getValueAtPercentile(99), h.getMaxValue());
            }
        }
    }

    private void external(int round, String... args) {
        if (round < 0 && args[0].equals("wake")) {
            return;
        }
        try {
            // a process inherits its parent thread's CPU mask, and this thread is pinned to one CPU
            List<String> command = new ArrayList<>();
            if (cpus.length >= 2) {
                command.addAll(List.of("taskset", "-c", String.join(",", Arrays.stream(cpus).mapToObj(Integer::toString).toList())));
            }
            command.add(cBinary);
            command.addAll(Arrays.asList(args));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(command + " exited " + p.exitValue() + ": " + out);
            }
            if (round >= 0) {
                System.out.println(out.substring(0, out.length() - 1) + ",\"round\":" + round + "}");
            }
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private void command(int child, int op, int size, long n) {
        long block = CONTROL + 256L * child;
        data.set(ValueLayout.JAVA_LONG, block + OP, op);
        data.set(ValueLayout.JAVA_LONG, block + SIZE, size);
        data.set(ValueLayout.JAVA_LONG, block + COUNT, n);
        LONG.setRelease(data, block + CMD, ++commands[child]);
    }

    /** Waits for the child's answer; {@return the bytes its thread allocated} */
    private long awaitAck(int child) {
        long block = CONTROL + 256L * child;
        while ((long) LONG.getAcquire(data, block + ACK) != commands[child]) {
            Thread.onSpinWait();
        }
        return data.get(ValueLayout.JAVA_LONG, block + ALLOC);
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private Process startChild(int index, int cpu) throws java.io.IOException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), RingBench.class.getName(), "child", name,
            Integer.toString(index), Integer.toString(cpu));
        return new ProcessBuilder(command).inheritIO().start();
    }

    // ------------------------------------------------------------------ the children: producers

    private static void child(String name, int index, int cpu) throws Exception {
        try (SharedRegion region = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            MemorySegment data = region.segment();
            long block = CONTROL + 256L * index;
            boolean pinned = cpu >= 0 && PingPong.pinThisThread(cpu);
            Ring pOne = Ring.attach(region, P_ONE);
            Ring pMany = Ring.attach(region, P_MANY);
            RingBuffer aOne = new OneToOneRingBuffer(agrona(region, A_ONE, CAPACITY, false));
            RingBuffer aMany = new ManyToOneRingBuffer(agrona(region, A_MANY, CAPACITY, false));
            RingBuffer aPing = new OneToOneRingBuffer(agrona(region, A_PING, SMALL, false));
            RingBuffer aPong = new OneToOneRingBuffer(agrona(region, A_PONG, SMALL, false));
            RingProducer oneQuiet = null;
            RingProducer oneSignal = null;
            RingProducer pongProducer = null;
            RingConsumer pingConsumer = null;
            RingProducer wakeProducer = null;
            if (index == 0) { // the one-to-one rings have one producer each: child 0
                oneQuiet = pOne.producer(false);
                pongProducer = Ring.attach(region, P_PONG).producer();
                pingConsumer = Ring.attach(region, P_PING).consumer();
                wakeProducer = Ring.attach(region, P_WAKE).producer(true);
            }
            RingProducer manyQuiet = pMany.producer(false);
            RingProducer manySignal = pMany.producer(true);
            LONG.setRelease(data, block + STATUS, pinned ? 1L : 2L);
            long last = 0;
            while (true) {
                long cmd;
                int idle = 0;
                while ((cmd = (long) LONG.getAcquire(data, block + CMD)) == last) {
                    if (++idle < 10_000) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.parkNanos(50_000); // the other child may be producing on this CPU
                    }
                }
                last = cmd;
                int op = (int) data.get(ValueLayout.JAVA_LONG, block + OP);
                int size = (int) data.get(ValueLayout.JAVA_LONG, block + SIZE);
                long n = data.get(ValueLayout.JAVA_LONG, block + COUNT);
                if (op == P_ONE_PRODUCE_SIGNAL && oneSignal == null) { // one producer at a time: swap
                    oneQuiet.close();
                    oneQuiet = null;
                    oneSignal = pOne.producer(true);
                } else if (op == P_ONE_PRODUCE && oneQuiet == null) {
                    oneSignal.close();
                    oneSignal = null;
                    oneQuiet = pOne.producer(false);
                }
                long before = allocated();
                switch (op) {
                    case EXIT -> {
                        return;
                    }
                    case P_ONE_PRODUCE -> produce(oneQuiet, size, n);
                    case P_ONE_PRODUCE_SIGNAL -> produce(oneSignal, size, n);
                    case A_ONE_PRODUCE -> produce(aOne, size, n);
                    case P_MANY_PRODUCE -> produce(manyQuiet, size, n);
                    case P_MANY_PRODUCE_SIGNAL -> produce(manySignal, size, n);
                    case A_MANY_PRODUCE -> produce(aMany, size, n);
                    case P_PONG_OP -> pong(pingConsumer, pongProducer, size, n);
                    case A_PONG_OP -> pong(aPing, aPong, size, n);
                    case WAKE_SEND -> send(wakeProducer, size, n);
                    default -> throw new IllegalStateException("op " + op);
                }
                data.set(ValueLayout.JAVA_LONG, block + ALLOC, allocated() - before);
                LONG.setRelease(data, block + ACK, cmd);
            }
        }
    }

    static void produce(RingProducer p, int size, long n) {
        MemorySegment buffer = p.buffer();
        for (long seq = 0; seq < n; seq++) {
            long at;
            while ((at = p.tryClaim(1, size)) < 0) {
                Thread.onSpinWait();
            }
            fill(buffer, at, size, seq);
            p.commit(at);
        }
    }

    static void produce(RingBuffer ring, int size, long n) {
        org.agrona.concurrent.AtomicBuffer buffer = ring.buffer();
        for (long seq = 0; seq < n; seq++) {
            int at;
            while ((at = ring.tryClaim(1, size)) < 0) {
                Thread.onSpinWait();
            }
            fill(buffer, at, size, seq);
            ring.commit(at);
        }
    }

    private static void pong(RingConsumer ping, RingProducer pong, int size, long n) {
        MemorySegment buffer = pong.buffer();
        Sum got = new Sum();
        for (long i = 0; i < n; i++) {
            long before = got.sum;
            while (ping.read(got, 1) == 0) {
                Thread.onSpinWait();
            }
            long at;
            while ((at = pong.tryClaim(1, size)) < 0) {
                Thread.onSpinWait();
            }
            fill(buffer, at, size, got.sum - before);
            pong.commit(at);
        }
    }

    private static void pong(RingBuffer ping, RingBuffer pong, int size, long n) {
        org.agrona.concurrent.AtomicBuffer buffer = pong.buffer();
        Sum got = new Sum();
        for (long i = 0; i < n; i++) {
            long before = got.sum;
            while (ping.read(got, 1) == 0) {
                Thread.onSpinWait();
            }
            int at;
            while ((at = pong.tryClaim(1, size)) < 0) {
                Thread.onSpinWait();
            }
            fill(buffer, at, size, got.sum - before);
            pong.commit(at);
        }
    }

    /** One message carrying the clock every {@code gapMicros} µs. */
    private static void send(RingProducer p, int gapMicros, long n) {
        MemorySegment buffer = p.buffer();
        for (long i = 0; i < n; i++) {
            LockSupport.parkNanos(gapMicros * 1000L);
            long at;
            while ((at = p.tryClaim(1, 8)) < 0) {
                Thread.onSpinWait();
            }
            buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, at, System.nanoTime());
            p.commit(at);
        }
    }
}
