package dev.panmap.clients;

import static dev.panmap.clients.ClientProcess.number;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.clients.ClientProcess.Kind;
import dev.panmap.ipc.BroadcastTransmitter;
import dev.panmap.ipc.Ring;
import dev.panmap.ipc.RingConsumer;
import dev.panmap.ipc.RingLayout;
import dev.panmap.ipc.RingProducer;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Ring consumption in the C and Python clients, against rings of layout version 2 as FORMAT.md §10
 * specifies them: written by the document, step by step ({@link V2} below, as a producer and a
 * transmitter would), and by Java's own {@link RingProducer} and {@link BroadcastTransmitter}.
 * Messages arrive in order and whole across laps, the consumer's position and count are the ring's (a
 * second consumer goes on where the first stopped), a dead producer's claim becomes padding after the
 * grace period while a live one's never does, a live consumer keeps its place, and hostile records and
 * positions end a read with {@code CORRUPT_REGION} or what it has, never a spin.
 */
@LinuxOnly
class RingConsumptionTest {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final VarHandle WORD = LONG.varHandle();

    @RegisterExtension
    final Closer cleanup = new Closer();


    /** A version-2 ring and broadcast buffer written by FORMAT.md §10, one producer at a time. */
    static final class V2 {
        static final long RING_MAGIC = 0x0000_474E_4952_4D50L;
        static final long BROADCAST_MAGIC = 0x0054_5341_4342_4D50L;
        final MemorySegment data;
        final long root;
        final long capacity;
        final int producers;
        final long buffer;
        long tail;
        long sequence;

        V2(MemorySegment data, long root, long capacity, int kind, int producers) {
            this.data = data;
            this.root = root;
            this.capacity = capacity;
            this.producers = producers;
            this.buffer = root + (kind == 3 ? 256 : 640 + 128L * producers);
            data.asSlice(root, buffer - root + capacity).fill((byte) 0);
            data.set(ValueLayout.JAVA_INT, root + 8, 2);
            data.set(ValueLayout.JAVA_INT, root + 12, kind);
            data.set(LONG, root + 16, capacity);
            data.set(ValueLayout.JAVA_INT, root + 24, kind == 3 ? 0 : producers);
            data.set(ValueLayout.JAVA_INT, root + 28, (int) (capacity / 8 - (kind == 3 ? 16 : 8)));
            WORD.setRelease(data, root, kind == 3 ? BROADCAST_MAGIC : RING_MAGIC);
        }

        static long header(int length, int type) {
            return ((long) type << 32) | Integer.toUnsignedLong(length);
        }

        long head() {
            return (long) WORD.getAcquire(data, root + 256);
        }

        /** One-to-one, §10.5: intent, claim header (and padding for a wrap), tail, payload, commit. {@return false if it does not fit} */
        boolean send(int type, long value, int payload) {
            return claim(type, value, payload, true);
        }

        /** Claims and publishes (tail stored) but does not commit: a producer stalled, or dead, inside its claim. */
        void claimOnly(long value, int payload) {
            claim(1, value, payload, false);
        }

        private boolean claim(int type, long value, int payload, boolean commit) {
            long aligned = (8 + payload + 7) & -8;
            long index = tail & (capacity - 1);
            long toEnd = capacity - index;
            long required = aligned > toEnd ? toEnd + aligned : aligned;
            if (tail + required - head() > capacity) {
                return false;
            }
            long entry = root + 640;
            data.set(LONG, entry + 8, tail);
            data.set(LONG, entry + 16, tail + required);
            long at = index;
            if (aligned > toEnd) {
                WORD.setRelease(data, buffer + index, header((int) toEnd, -1));
                at = 0;
            }
            WORD.setRelease(data, buffer + at, header((int) -(8 + payload), 0));
            tail += required;
            WORD.setRelease(data, root + 128, tail);
            if (commit) {
                if (payload >= 8) {
                    data.set(LONG, buffer + at + 8, value);
                }
                WORD.setRelease(data, buffer + at, header(8 + payload, type));
            }
            return true;
        }

        /** A broadcast, §10.7: intent, (padding), the record, transmitted, latest, tail. */
        void transmit(long value, int payload) {
            long aligned = (16 + payload + 7) & -8;
            long index = tail & (capacity - 1);
            long toEnd = capacity - index;
            long end = aligned > toEnd ? tail + toEnd + aligned : tail + aligned;
            WORD.setOpaque(data, root + 128, end);
            VarHandle.storeStoreFence();
            long at = tail;
            if (aligned > toEnd) {
                data.set(LONG, buffer + index, header((int) toEnd, -1));
                at = tail + toEnd;
            }
            long i = at & (capacity - 1);
            data.set(LONG, buffer + i, header(16 + payload, 1));
            data.set(LONG, buffer + i + 8, sequence);
            if (payload >= 8) {
                data.set(LONG, buffer + i + 16, value);
            }
            sequence++;
            WORD.setOpaque(data, root + 152, sequence);
            WORD.setRelease(data, root + 144, at);
            tail = end;
            WORD.setRelease(data, root + 136, tail);
        }
    }

    private SharedRegion region(String name) {
        SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 18));
        cleanup.add(() -> {
            r.close();
            SharedRegion.remove(name);
        });
        return r;
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void messagesArriveWholeAndInOrderAcrossLapsAndTheConsumersPlaceIsTheRings(Kind kind) {
        String name = Names.unique("ring-" + kind.name().toLowerCase());
        SharedRegion r = region(name);
        V2 ring = new V2(r.segment(), 1024, 4096, 1, 1);
        ClientProcess c = ClientProcess.start(kind);
        cleanup.add(c);
        c.expect("open shm " + name + " rw", "OPENED");
        assertThat(c.expect("consume 1024", "CONSUMER")).isEqualTo("CONSUMER head=0 consumed=0");
        long sent = 0;
        long sum = 0;
        for (int round = 0; round < 40; round++) { // 40 rounds of up to 60 messages of 24..80 bytes: many laps of 4 KiB
            int n = 0;
            long first = sent + 1;
            while (n < 60 && ring.send(1, sent + 1, 16 + (int) (sent % 8) * 8)) {
                sent++;
                n++;
                sum += sent;
            }
            String read = c.expect("ringread 1000", "RINGREAD");
            assertThat(number(read, "count")).as(read).isEqualTo(n);
            assertThat(number(read, "first")).isEqualTo(first);
            assertThat(number(read, "last")).isEqualTo(sent);
            assertThat(number(read, "head")).isEqualTo(ring.tail);
        }
        assertThat(ring.tail).as("laps").isGreaterThan(10 * ring.capacity);
        assertThat(r.segment().get(LONG, 1024 + 280)).as("the consumed count").isEqualTo(sent);
        assertThat(r.segment().get(LONG, 1024 + 272)).as("the consumer's stamp").isNotZero();
        assertThat(c.ask("ringread 10")).isEqualTo("RINGREAD count=0 first=0 last=0 sum=0 head=" + ring.tail);
        // a second consumer is refused while this one lives; after ringclose one goes on from the same place
        ClientProcess other = ClientProcess.start(kind == Kind.C ? Kind.PYTHON : Kind.C);
        cleanup.add(other);
        other.expect("open shm " + name + " rw", "OPENED");
        assertThat(other.ask("consume 1024")).startsWith("ERROR WOULD_BLOCK ").contains("has a consumer already");
        ring.send(1, 4242, 8);
        c.expect("ringclose", "RINGCLOSED");
        assertThat(r.segment().get(LONG, 1024 + 272)).as("the stamp is cleared").isZero();
        assertThat(other.expect("consume 1024", "CONSUMER")).isEqualTo("CONSUMER head=" + (ring.tail - 16) + " consumed=" + sent);
        assertThat(other.expect("ringread 10", "RINGREAD")).startsWith("RINGREAD count=1 first=4242 ");
        c.exitCleanly();
        other.exitCleanly();
    }

    /**
     * Java's real producers, many-to-one: messages of 8 to 200 bytes across many laps arrive whole and in
     * order; a live Java producer's claim (its entry's lock byte held by this JVM) is never padded
     * however long it stays open; a Java producer process killed inside its claim has it padded; the
     * consumer's place is one, whoever holds it (a Java consumer refused while the client's lives, and
     * going on from its count after). Then a Java transmitter's broadcasts.
     */
    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void aRingWrittenByJavasProducersIsConsumedByTheClient(Kind kind) {
        String name = Names.unique("ring-java-" + kind.name().toLowerCase());
        SharedRegion r = region(name);
        Ring ring = Ring.create(r, 1024, Ring.Kind.MANY_TO_ONE, 4096, 4);
        ClientProcess c = client(kind, name, "rw");
        assertThat(c.expect("consume 1024 5", "CONSUMER")).isEqualTo("CONSUMER head=0 consumed=0");
        assertThatThrownBy(ring::consumer).isInstanceOf(IllegalStateException.class).hasMessageContaining("has a consumer already");
        MemorySegment m = java.lang.foreign.Arena.ofAuto().allocate(256, 8);
        long sent = 0;
        try (RingProducer a = ring.producer(); RingProducer b = ring.producer()) {
            for (int round = 0; round < 40; round++) {
                int n = 0;
                long first = sent + 1;
                while (n < 30) {
                    m.set(LONG, 0, sent + 1);
                    if (!(n % 2 == 0 ? a : b).write(1 + n % 3, m, 0, 8 + (int) (sent % 25) * 8)) {
                        break;
                    }
                    sent++;
                    n++;
                }
                String read = c.expect("ringread 1000", "RINGREAD");
                assertThat(number(read, "count")).as(read).isEqualTo(n);
                assertThat(number(read, "first")).isEqualTo(first);
                assertThat(number(read, "last")).isEqualTo(sent);
                assertThat(number(read, "head")).isEqualTo(ring.state().produced());
            }
            // a live producer's claim, held for 150 ms: the client asks, and never pads it
            long open = a.tryClaim(1, 8);
            m.set(LONG, 0, sent + 2);
            b.write(1, m, 0, 8);
            long until = System.nanoTime() + 150_000_000L;
            while (System.nanoTime() < until) {
                assertThat(number(c.expect("ringread 10", "RINGREAD"), "count")).isZero();
            }
            assertThat(ring.state().skippedClaims()).isZero();
            a.buffer().set(LONG, open, sent + 1);
            a.commit(open);
            String read = c.expect("ringread 10", "RINGREAD");
            assertThat(read).contains("count=2 first=" + (sent + 1) + " last=" + (sent + 2) + " ");
            sent += 2;
        }
        assertThat(ring.state().produced()).isGreaterThan(10 * ring.capacity());
        // a Java producer process killed inside its claim: padded by the client after the grace
        try (ChildJvm child = ChildJvm.start(dev.panmap.ipc.RingChild.class, "produce-then-claim", name, "1024", "1", "3")) {
            child.awaitPrefix("CLAIMED ", ClientProcess.WAIT);
            child.kill();
        }
        String read = "";
        for (int i = 0; i < 400 && number(read.isEmpty() ? "count=0" : read, "count") < 3; i++) {
            read = c.expect("ringread 10", "RINGREAD");
        }
        assertThat(read).as("the three committed messages of the killed producer").contains("count=3 ");
        for (int i = 0; i < 400 && ring.state().skippedClaims() == 0; i++) {
            c.expect("ringread 10", "RINGREAD");
            sleep(5);
        }
        assertThat(ring.state().skippedClaims()).isEqualTo(1);
        long consumed = sent + 3;
        assertThat(r.segment().get(LONG, 1024 + RingLayout.CONSUMED_OFFSET)).as("the consumed count").isEqualTo(consumed);
        c.expect("ringclose", "RINGCLOSED");
        try (RingConsumer java = ring.consumer()) {
            assertThat(java.consumed()).isEqualTo(consumed);
            assertThat(java.position()).isEqualTo(ring.state().produced());
        }
        c.exitCleanly();
    }

    /** A Java transmitter's broadcasts, received whole and in order by the client. */
    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void broadcastsOfJavasTransmitterAreReceivedByTheClient(Kind kind) {
        String name = Names.unique("bcast-java-" + kind.name().toLowerCase());
        SharedRegion r = region(name);
        MemorySegment m = java.lang.foreign.Arena.ofAuto().allocate(64, 8);
        try (BroadcastTransmitter t = BroadcastTransmitter.create(r, 0, 4096)) {
            ClientProcess c = client(kind, name, "ro");
            c.expect("receive 0", "RECEIVER");
            for (long v = 1; v <= 300; v++) {
                m.set(LONG, 0, v);
                t.transmit(1, m, 0, 8 + (int) (v % 5) * 8);
                if (v % 20 == 0) {
                    String got = c.expect("bcastread 100", "BCAST");
                    assertThat(got).as(got).contains("count=20 first=" + (v - 19) + " last=" + v + " ").contains("lapped=0 lost=0");
                }
            }
            c.exitCleanly();
        }
    }

    /** {@return a client of {@code kind} that has opened region {@code name} ({@code rw} or {@code ro}), closed after the test} */
    private ClientProcess client(Kind kind, String name, String mode) {
        ClientProcess c = ClientProcess.start(kind);
        cleanup.add(c);
        c.expect("open shm " + name + " " + mode, "OPENED");
        return c;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void aDeadProducersClaimBecomesPaddingAfterTheGraceAndALiveOnesNever(Kind kind) throws Exception {
        String name = Names.unique("ring-dead-" + kind.name().toLowerCase());
        SharedRegion r = region(name);
        V2 ring = new V2(r.segment(), 0, 4096, 1, 1);
        ring.send(1, 1, 8);
        ring.claimOnly(2, 8); // a producer inside its claim
        ring.send(1, 3, 8);
        r.segment().set(LONG, 640, 0x1234_0000_0000L | 99999); // entry 0's stamp: someone held it
        // a live producer: entry 0's lock byte (2^61 + root + 640) held by another process
        Process holder = new ProcessBuilder("python3", "-c", "import fcntl,os,struct,sys\n"
            + "fd=os.open(sys.argv[1],os.O_RDWR)\nfcntl.fcntl(fd,37,struct.pack('=hh4xqqi4x',1,0,(1<<61)+640,1,0))\n"
            + "print('held',flush=True)\nsys.stdin.read()\n", "/dev/shm" + name).start();
        cleanup.add(holder::destroyForcibly);
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine()).isEqualTo("held");
        ClientProcess c = ClientProcess.start(kind);
        cleanup.add(c);
        c.expect("open shm " + name + " rw", "OPENED");
        c.expect("consume 0 5", "CONSUMER");
        assertThat(number(c.expect("ringread 10", "RINGREAD"), "count")).isEqualTo(1);
        for (int i = 0; i < 30; i++) { // well past the 5 ms grace, many liveness checks: alive, so never padded
            Thread.sleep(5);
            assertThat(number(c.expect("ringread 10", "RINGREAD"), "count")).isZero();
        }
        assertThat(r.segment().get(LONG, 288)).as("no skipped claims").isZero();
        holder.getOutputStream().close();
        assertThat(holder.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue(); // the producer is gone: its lock with it
        String read = "";
        for (int i = 0; i < 400 && !read.contains("count=1 "); i++) { // the consumer asks again within its back-off (<= 1 s)
            Thread.sleep(5);
            read = c.expect("ringread 10", "RINGREAD");
        }
        assertThat(read).as("the message after the dead claim").contains("count=1 first=3 ");
        assertThat(r.segment().get(LONG, 288)).as("skipped claims").isEqualTo(1);
        assertThat(r.segment().get(LONG, 296)).as("skipped bytes").isEqualTo(16);
        c.exitCleanly();
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void hostileRecordsAndPositionsEndAReadNeverSpinIt(Kind kind) {
        String name = Names.unique("ring-hostile-" + kind.name().toLowerCase());
        SharedRegion r = region(name);
        MemorySegment d = r.segment();
        V2 ring = new V2(d, 0, 1024, 1, 1);
        ring.send(1, 1, 8);
        ring.send(1, 2, 8);
        d.set(LONG, ring.buffer + 16, V2.header(0x7ff0_0000, 1)); // the second: a length far past a 1 KiB ring
        ClientProcess c = ClientProcess.start(kind);
        cleanup.add(c);
        c.expect("open shm " + name + " rw", "OPENED");
        c.expect("consume 0", "CONSUMER");
        assertThat(c.ask("ringread 10")).startsWith("ERROR CORRUPT_REGION ").contains("length 2146435072");
        assertThat(ring.head()).as("the message before it was consumed, the head stays at the damage").isEqualTo(16);
        assertThat(c.ask("ringread 10")).as("every later read says the same").startsWith("ERROR CORRUPT_REGION ");
        d.set(LONG, ring.buffer + 16, V2.header(16, 0)); // type 0: neither a message nor padding
        assertThat(c.ask("ringread 10")).startsWith("ERROR CORRUPT_REGION ").contains("type 0");

        // a broadcast buffer with forged positions (intent 2^50, tail 2^40, latest 0), then a flood of padding
        V2 bcast = new V2(d, 8192, 1024, 3, 0);
        c.expect("receive 8192", "RECEIVER position=0");
        bcast.transmit(7, 8);
        assertThat(c.ask("bcastread 10")).startsWith("BCAST count=1 first=7 ");
        WORD.setRelease(d, 8192L + 128, 1L << 50);
        WORD.setRelease(d, 8192L + 136, 1L << 40);
        WORD.setRelease(d, 8192L + 144, 0L);
        assertThat(c.ask("bcastread 10")).startsWith("ERROR CORRUPT_REGION ");
        V2 flood = new V2(d, 16384, 2048, 3, 0);
        c.expect("receive 16384", "RECEIVER position=0");
        for (long p = 0; p < 1024; p += 8) { // 128 padding records, positions consistent (within a lap, latest by the tail)
            d.set(LONG, flood.buffer + p, V2.header(8, -1));
        }
        WORD.setRelease(d, 16384L + 128, 1024L);
        WORD.setRelease(d, 16384L + 144, 1016L);
        WORD.setRelease(d, 16384L + 136, 1024L);
        long start = System.nanoTime();
        assertThat(c.ask("bcastread 10")).as("64 padding records in a row end the read with what it has").startsWith("BCAST count=0 ");
        assertThat(System.nanoTime() - start).isLessThan(10_000_000_000L);
        c.exitCleanly();
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void aReceiverGetsEveryBroadcastOrCountsWhatItLost(Kind kind) {
        String name = Names.unique("bcast-" + kind.name().toLowerCase());
        SharedRegion r = region(name);
        V2 b = new V2(r.segment(), 0, 4096, 3, 0);
        b.transmit(100, 8); // before the receiver: not received
        ClientProcess c = ClientProcess.start(kind);
        cleanup.add(c);
        c.expect("open shm " + name + " ro", "OPENED");
        c.expect("receive 0", "RECEIVER");
        for (long v = 1; v <= 300; v++) {
            b.transmit(v, 8 + (int) (v % 5) * 8);
            if (v % 20 == 0) {
                String got = c.expect("bcastread 100", "BCAST");
                assertThat(got).as(got).contains("count=20 first=" + (v - 19) + " last=" + v + " ").contains("lapped=0 lost=0");
            }
        }
        for (long v = 301; v <= 600; v++) { // more than a lap unread: lapped, the loss counted from the sequence numbers
            b.transmit(v, 8);
        }
        String got = c.expect("bcastread 1000", "BCAST");
        assertThat(number(got, "lapped")).as(got).isGreaterThanOrEqualTo(1);
        assertThat(number(got, "last")).isEqualTo(600);
        assertThat(number(got, "count") + number(got, "lost")).as(got).isEqualTo(300);
        c.exitCleanly();
    }
}
