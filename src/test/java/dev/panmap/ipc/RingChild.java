package dev.panmap.ipc;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.internal.TestPoints;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The other process of {@link RingCrossProcessTest}: a producer, a consumer or a broadcast receiver,
 * by the first argument. Messages are {@link #fill filled} so that the reader can check every byte:
 * the first long is {@code (producer << 40) | sequence}, each later one a mix of it and its place.
 */
public final class RingChild {
    private RingChild() {}

    static long word(long first, int k) {
        long x = first * 0x9E3779B97F4A7C15L + k * 0xC2B2AE3D27D4EB4FL;
        return x ^ (x >>> 29);
    }

    /** {@return the payload length of message {@code seq} of producer {@code id}: 8 to 256, a multiple of 8} */
    static int length(int id, long seq) {
        return 8 * (1 + (int) (((seq * 31 + id * 7) & 0x7FFFFFFF) % 32));
    }

    static void fill(MemorySegment buffer, long at, int id, long seq, int length) {
        long first = ((long) id << 40) | seq;
        buffer.set(JAVA_LONG, at, first);
        for (int k = 8; k < length; k += 8) {
            buffer.set(JAVA_LONG, at + k, word(first, k));
        }
    }

    /** {@return whether the payload is whole: every word is what {@link #fill} wrote} */
    static boolean whole(MemorySegment buffer, long at, int length) {
        long first = buffer.get(JAVA_LONG, at);
        int id = (int) (first >>> 40);
        long seq = first & ((1L << 40) - 1);
        if (length != length(id, seq)) {
            return false;
        }
        for (int k = 8; k < length; k += 8) {
            if (buffer.get(JAVA_LONG, at + k) != word(first, k)) {
                return false;
            }
        }
        return true;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        try (SharedRegion region = SharedRegion.open(args[1], OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            long offset = Long.parseLong(args[2]);
            switch (mode) {
                case "produce" -> produce(region, offset, Integer.parseInt(args[3]), Long.parseLong(args[4]), false);
                case "produce-then-claim" -> produce(region, offset, Integer.parseInt(args[3]), Long.parseLong(args[4]), true);
                case "gap-and-die" -> gapAndDie(region, offset, Integer.parseInt(args[3]));
                case "consume" -> consume(region, offset, Long.parseLong(args[3]), Long.parseLong(args[4]));
                case "consume-die-at" -> consumeAndDieAt(region, offset, args[3]);
                case "produce-die-at" -> produceAndDieAt(region, offset, Long.parseLong(args[3]), args[4]);
                case "transmit-die-at" -> transmitAndDieAt(region, offset, Long.parseLong(args[3]), args[4]);
                case "allocation-of-facts" -> allocationOfFacts(region, offset);
                case "allocation-of-liveness" -> allocationOfLiveness(region, offset, Integer.parseInt(args[3]));
                case "produce-stall-at" -> produceStallingAt(region, offset, args[3], Long.parseLong(args[4]));
                case "produce-stalling" -> produceStalling(region, offset, Integer.parseInt(args[3]), Long.parseLong(args[4]),
                    Long.parseLong(args[5]));
                case "await" -> await(region, offset);
                case "receive" -> receive(region, offset, Integer.parseInt(args[3]));
                default -> throw new IllegalArgumentException(mode);
            }
        }
    }

    /** Writes {@code count} messages as producer {@code id}; then, if asked, claims one more and hangs. */
    static void produce(SharedRegion region, long offset, int id, long count, boolean hangInClaim) throws InterruptedException {
        Ring ring = Ring.attach(region, offset);
        System.out.println("PID " + ProcessHandle.current().pid());
        try (RingProducer p = ring.producer()) {
            System.out.println("READY " + p.entryIndex());
            MemorySegment buffer = p.buffer();
            for (long seq = 0; seq < count; seq++) {
                int length = length(id, seq);
                long at;
                while ((at = p.tryClaim(1 + (int) (seq % 3), length)) < 0) {
                    Thread.yield(); // more processes than cores here: let the consumer run
                }
                fill(buffer, at, id, seq, length);
                p.commit(at);
            }
            System.out.println("DONE " + count);
            if (hangInClaim) {
                long at;
                while ((at = p.tryClaim(1, 64)) < 0) {
                    Thread.onSpinWait();
                }
                fill(buffer, at, id, count, 32); // half written
                System.out.println("CLAIMED " + at);
                Thread.sleep(Long.MAX_VALUE);
            }
        }
    }

    /**
     * Writes one message, then does what a many-to-one producer does up to its compare-and-set of the
     * tail and dies before the header store (the window SIGKILL can hit but not aim at).
     */
    static void gapAndDie(SharedRegion region, long offset, int id) {
        Ring ring = Ring.attach(region, offset);
        RingProducer p = ring.producer();
        MemorySegment buffer = p.buffer();
        long at = p.tryClaim(1, length(id, 0));
        fill(buffer, at, id, 0, length(id, 0));
        p.commit(at);
        long entry = ring.entry(p.entryIndex());
        MemorySegment r = ring.ring;
        while (true) {
            long tail = (long) Ring.LONG_HANDLE.getVolatile(r, (long) RingLayout.TAIL_OFFSET);
            long record = RingLayout.align(RingLayout.HEADER_LENGTH + 40);
            r.set(JAVA_LONG, entry + RingLayout.ENTRY_CLAIM_START_OFFSET, tail);
            r.set(JAVA_LONG, entry + RingLayout.ENTRY_CLAIM_END_OFFSET, tail + record);
            if (Ring.LONG_HANDLE.compareAndSet(r, (long) RingLayout.TAIL_OFFSET, tail, tail + record)) {
                System.out.println("GAP " + tail);
                System.out.flush();
                Runtime.getRuntime().halt(0); // no header, no cleanup
            }
        }
    }

    /**
     * Consumes until {@code total} messages in all, checking each; keeps, per producer, the last
     * sequence seen in the region at {@code progress} (so that a test can kill it and check a
     * successor). A successor checks that it starts where the region says, give or take the batch
     * of 64 the dead one had handled without releasing.
     */
    static void consume(SharedRegion region, long offset, long total, long progress) {
        Ring ring = Ring.attach(region, offset);
        MemorySegment data = region.segment();
        try (RingConsumer c = ring.consumer()) {
            long[] seen = {c.consumed()};
            long[] last = new long[8];
            boolean[] first = new boolean[8];
            for (int i = 0; i < 8; i++) {
                last[i] = data.get(JAVA_LONG, progress + 8L * i);
                first[i] = true;
            }
            String[] failure = {null};
            System.out.println("READY " + seen[0]);
            MessageHandler handler = (type, buffer, at, length) -> {
                long word = buffer.get(JAVA_LONG, at);
                int id = (int) (word >>> 40);
                long seq = word & ((1L << 40) - 1);
                if (!whole(buffer, at, length)) {
                    failure[0] = "torn message " + id + "/" + seq;
                } else if (first[id]) {
                    if (seq > last[id] + 1 || seq < last[id] - 63) {
                        failure[0] = "producer " + id + " resumed at " + seq + " after " + last[id];
                    }
                    first[id] = false;
                } else if (seq != last[id] + 1) {
                    failure[0] = "producer " + id + ": " + seq + " after " + last[id];
                }
                last[id] = seq;
                VarHandle.releaseFence();
                data.set(JAVA_LONG, progress + 8L * id, seq);
                seen[0]++;
            };
            while (seen[0] < total && failure[0] == null) {
                if (c.read(handler, 64) == 0) {
                    Thread.yield();
                }
            }
            System.out.println(failure[0] != null ? "FAILED " + failure[0] : "RESULT " + seen[0]);
        }
    }

    /**
     * Consumes with the test point {@code point} armed (the JVM runs with {@code -Dpanmap.testPoints=true}):
     * at it, prints {@code DYING} and the messages handled so far, and halts, leaving the ring exactly
     * as a consumer killed there leaves it.
     */
    static void consumeAndDieAt(SharedRegion region, long offset, String point) {
        long[] handled = {0};
        TestPoints.install(p -> {
            if (p.equals(point)) {
                System.out.println("DYING " + handled[0]);
                System.out.flush();
                Runtime.getRuntime().halt(3);
            }
        });
        Ring ring = Ring.attach(region, offset);
        RingConsumer c = ring.consumer();
        while (true) {
            c.read((type, buffer, at, length) -> handled[0]++, 1 << 20);
            Thread.yield();
        }
    }

    /**
     * A producer that stalls {@code stallMillis} inside each of its {@code count} claims (between the
     * claim and the commit, as a producer descheduled, paged out or stopped there), then prints
     * {@code DONE} with how many commits were refused, and keeps its entry until killed.
     */
    static void produceStalling(SharedRegion region, long offset, int id, long count, long stallMillis) throws InterruptedException {
        Ring ring = Ring.attach(region, offset);
        RingProducer p = ring.producer();
        System.out.println("READY entry=" + p.entryIndex() + " pid=" + ProcessHandle.current().pid());
        long refused = 0;
        for (long seq = 0; seq < count; seq++) {
            int length = length(id, seq);
            long at;
            while ((at = p.tryClaim(1 + (int) (seq % 3), length)) < 0) {
                Thread.sleep(1);
            }
            fill(p.buffer(), at, id, seq, length);
            Thread.sleep(stallMillis);
            try {
                p.commit(at);
            } catch (IllegalStateException e) {
                refused++;
            }
        }
        System.out.println("DONE refused=" + refused);
        Thread.sleep(Long.MAX_VALUE);
    }

    /**
     * A live producer that stops at {@code point} of its first claim for {@code millis} (printing
     * {@code STALLED}), then goes on, commits four words of 77 and prints {@code DONE}.
     */
    static void produceStallingAt(SharedRegion region, long offset, String point, long millis) {
        boolean[] once = {false};
        TestPoints.install(p -> {
            if (p.equals(point) && !once[0]) {
                once[0] = true;
                System.out.println("STALLED");
                System.out.flush();
                try {
                    Thread.sleep(millis); // (a park may return early)
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Ring ring = Ring.attach(region, offset);
        try (RingProducer p = ring.producer()) {
            MemorySegment m = scratch(32);
            for (int k = 0; k < 32; k += 8) {
                m.set(JAVA_LONG, k, 77);
            }
            boolean sent = p.write(1, m);
            System.out.println("DONE " + sent);
        }
    }

    /**
     * Prints {@code ALLOCATED} and the bytes this thread allocated over 100,000 calls of each of
     * size(), tailPosition(), headPosition() and consumerHeartbeat() after a warm-up (read through
     * com.sun.management.ThreadMXBean by reflection: the test sources are compiled inside the module).
     */
    static void allocationOfFacts(SharedRegion region, long offset) throws ReflectiveOperationException {
        Ring ring = Ring.attach(region, offset);
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        java.lang.reflect.Method allocatedBytes = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
        long sink = 0;
        for (int i = 0; i < 200_000; i++) {
            sink += ring.size() + ring.tailPosition() + ring.headPosition() + ring.consumerHeartbeat();
        }
        long before = (long) allocatedBytes.invoke(threads);
        for (int i = 0; i < 100_000; i++) {
            sink += ring.size() + ring.tailPosition() + ring.headPosition() + ring.consumerHeartbeat();
        }
        long after = (long) allocatedBytes.invoke(threads);
        System.out.println("SINK " + sink);
        System.out.println("ALLOCATED " + (after - before));
    }

    /**
     * Takes a producer entry of its own, then asks 100,000 times (after a warm-up of 200,000) whether
     * that entry's producer and the one of entry {@code other} (a producer of another process) are
     * alive, as a consumer's liveness check does; prints {@code OWN} and {@code OTHER} with the bytes
     * this thread allocated for each, and {@code ALIVE} with whether every answer was yes.
     */
    static void allocationOfLiveness(SharedRegion region, long offset, int other) throws ReflectiveOperationException {
        Ring ring = Ring.attach(region, offset);
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        java.lang.reflect.Method allocatedBytes = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
        try (RingProducer own = ring.producer(false)) {
            boolean alive = true;
            for (long lock : new long[] {ring.entryLock(own.entryIndex()), ring.entryLock(other)}) {
                for (int i = 0; i < 200_000; i++) {
                    alive &= ring.liveness.alive(lock);
                }
                long before = (long) allocatedBytes.invoke(threads);
                for (int i = 0; i < 100_000; i++) {
                    alive &= ring.liveness.alive(lock);
                }
                long after = (long) allocatedBytes.invoke(threads);
                System.out.println((lock == ring.entryLock(other) ? "OTHER " : "OWN ") + (after - before));
            }
            System.out.println("ALIVE " + alive);
        }
    }

    /**
     * Arms {@code point} to halt this JVM at its {@code (after + 1)}-th hit, printing {@code DYING} first:
     * the state a process killed exactly there leaves.
     */
    static void dieAt(String point, long after) {
        long[] hits = {0};
        TestPoints.install(p -> {
            if (p.equals(point) && hits[0]++ == after) {
                System.out.println("DYING " + after);
                System.out.flush();
                Runtime.getRuntime().halt(3);
            }
        });
    }

    /** A producer that writes {@code count} messages (payload: 4 words of the sequence number) and dies at {@code point} in the next claim. */
    static void produceAndDieAt(SharedRegion region, long offset, long count, String point) {
        dieAt(point, count);
        Ring ring = Ring.attach(region, offset);
        RingProducer p = ring.producer();
        MemorySegment m = scratch(32);
        for (long seq = 0; ; seq++) {
            for (int k = 0; k < 32; k += 8) {
                m.set(JAVA_LONG, k, seq);
            }
            while (!p.write(1, m)) {
                Thread.yield();
            }
        }
    }

    /** A transmitter (in place of the one before) that sends {@code count} messages (4 words of 1000 + i) and dies at {@code point} in the next. */
    static void transmitAndDieAt(SharedRegion region, long offset, long count, String point) {
        dieAt(point, count);
        BroadcastTransmitter t = BroadcastTransmitter.attach(region, offset);
        MemorySegment m = scratch(32);
        for (long i = 0; ; i++) {
            for (int k = 0; k < 32; k += 8) {
                m.set(JAVA_LONG, k, 1000 + i);
            }
            t.transmit(1, m);
        }
    }

    /** Sleeps in the kernel until a message comes, then prints it. */
    static void await(SharedRegion region, long offset) {
        Ring ring = Ring.attach(region, offset);
        try (RingConsumer c = ring.consumer()) {
            System.out.println("SLEEPING");
            long t0 = System.nanoTime();
            boolean ready = c.await(-1);
            long[] got = {-1};
            c.read((type, buffer, at, length) -> got[0] = buffer.get(JAVA_LONG, at), 1);
            System.out.println("WOKE ready=" + ready + " value=" + got[0] + " after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        }
    }

    /**
     * Receives broadcast messages until one of type 2, sleeping {@code pauseMillis} every 100
     * messages; every payload word must be its sequence number.
     */
    static void receive(SharedRegion region, long offset, int pauseMillis) {
        BroadcastReceiver r = BroadcastReceiver.attach(region, offset);
        System.out.println("READY");
        boolean[] end = {false};
        String[] failure = {null};
        long[] previous = {-1};
        MessageHandler handler = (type, buffer, at, length) -> {
            long v = buffer.get(JAVA_LONG, at);
            for (int k = 8; k < length; k += 8) {
                if (buffer.get(JAVA_LONG, at + k) != v) {
                    failure[0] = "torn message " + v;
                }
            }
            if (v <= previous[0]) {
                failure[0] = v + " after " + previous[0];
            }
            previous[0] = v;
            end[0] |= type == 2;
        };
        while (!end[0] && failure[0] == null) {
            if (r.read(handler, 100) == 0) {
                Thread.yield();
            } else if (pauseMillis > 0) {
                LockSupport.parkNanos(pauseMillis * 1_000_000L);
            }
        }
        System.out.println(failure[0] != null ? "FAILED " + failure[0]
            : "RESULT received=" + r.received() + " lost=" + r.lost() + " lapped=" + r.lapped() + " last=" + previous[0]);
    }

    static MemorySegment scratch(int bytes) {
        return Arena.ofAuto().allocate(bytes, 8);
    }
}
