package dev.panmap.ipc;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.testing.ChildJvm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The rings between real processes (child JVMs): many messages from several producers, checked word
 * by word and by sequence; producers killed with SIGKILL inside a claim; a consumer killed and
 * restarted; a consumer asleep in the kernel woken by another process; broadcast receivers lapped.
 * Both addressing modes. {@code -Dpanmap.ipc.long=true} runs ten times the messages and rounds.
 */
class RingCrossProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int SCALE = Boolean.getBoolean("panmap.ipc.long") ? 10 : 1;
    private static final List<String> TIERED = List.of("--enable-native-access=ALL-UNNAMED");
    private static final long PROGRESS = 1 << 20; // data offset of the consumers' progress slots
    private static final List<String> TEST_POINTS = List.of("--enable-native-access=ALL-UNNAMED", "-Dpanmap.testPoints=true");

    /** Checks each message: whole, and per producer the next sequence number. */
    static final class Checker implements MessageHandler {
        final long[] next = new long[8];
        long count;
        String failure;

        @Override
        public void onMessage(int type, MemorySegment buffer, long offset, int length) {
            long word = buffer.get(JAVA_LONG, offset);
            int id = (int) (word >>> 40);
            long seq = word & ((1L << 40) - 1);
            if (failure == null && !RingChild.whole(buffer, offset, length)) {
                failure = "torn or wrong message from producer " + id + " seq " + seq + " length " + length;
            } else if (failure == null && (id >= next.length || seq != next[id])) {
                failure = "producer " + id + ": seq " + seq + ", expected " + (id < next.length ? next[id] : -1);
            } else if (failure == null && type != 1 + (int) (seq % 3)) {
                failure = "producer " + id + " seq " + seq + ": type " + type;
            }
            if (id < next.length) {
                next[id] = seq + 1;
            }
            count++;
        }

        void readUntil(RingConsumer c, long total, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count < total && failure == null && System.nanoTime() < deadline) {
                if (c.read(this, 256) == 0) {
                    Thread.yield(); // more processes than cores here
                }
            }
            assertThat(failure).isNull();
            assertThat(count).as("messages received").isEqualTo(total);
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void threeProducersInThreeProcessesMillionsOfMessagesNoLossDuplicateReorderOrTear(Addressing addressing) {
        long perProducer = 400_000L * SCALE;
        try (RingTest.TestRegion r = RingTest.TestRegion.create(addressing, 4 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.MANY_TO_ONE, 64 << 10, 8);
            List<ChildJvm> children = new ArrayList<>();
            try (RingConsumer c = ring.consumer()) {
                for (int id = 1; id <= 3; id++) {
                    children.add(ChildJvm.startTiered(TIERED, RingChild.class, "produce", r.name(), "0", Integer.toString(id),
                        Long.toString(perProducer)));
                }
                Checker check = new Checker();
                check.readUntil(c, 3 * perProducer, WAIT);
                for (ChildJvm child : children) {
                    assertThat(child.awaitPrefix("DONE ", WAIT)).isEqualTo(Long.toString(perProducer));
                    assertThat(child.awaitExit(WAIT)).isZero();
                }
                for (int id = 1; id <= 3; id++) {
                    assertThat(check.next[id]).isEqualTo(perProducer);
                }
                RingState s = ring.state();
                assertThat(s.producedMessages()).isEqualTo(3 * perProducer);
                assertThat(s.consumedMessages()).isEqualTo(3 * perProducer);
                assertThat(s.lag()).isZero();
                assertThat(s.skippedClaims()).isZero();
                assertThat(s.producers()).isEmpty(); // each closed its producer
            } finally {
                children.forEach(ChildJvm::close);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void oneToOneAcrossProcessesMillionOfMessages(Addressing addressing) {
        long count = 1_000_000L * SCALE;
        try (RingTest.TestRegion r = RingTest.TestRegion.create(addressing, 4 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.ONE_TO_ONE, 32 << 10);
            try (RingConsumer c = ring.consumer();
                 ChildJvm child = ChildJvm.startTiered(TIERED, RingChild.class, "produce", r.name(), "0", "5", Long.toString(count))) {
                Checker check = new Checker();
                check.readUntil(c, count, WAIT);
                assertThat(child.awaitPrefix("DONE ", WAIT)).isEqualTo(Long.toString(count));
                assertThat(child.awaitExit(WAIT)).isZero();
                assertThat(ring.state().producedMessages()).isEqualTo(count);
            }
        }
    }

    /**
     * Round after round a producer process writes some messages, claims one more, writes half of it
     * and is killed with SIGKILL; another dies between its compare-and-set of the tail and its header
     * store. The consumer never stalls: it gets every committed message, and skips exactly one claim
     * per dead producer.
     */
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void producersKilledInsideClaimsNeverStallTheConsumerAndEachClaimIsSkippedOnce(Addressing addressing) {
        int rounds = 4 * SCALE;
        try (RingTest.TestRegion r = RingTest.TestRegion.create(addressing, 4 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.MANY_TO_ONE, 16 << 10, 8);
            try (RingConsumer c = ring.consumer(Duration.ofMillis(20))) {
                long expectedSkipped = 0;
                for (int round = 0; round < rounds; round++) {
                    int id = 1 + round % 7;
                    long count = 500 + 100 * round;
                    Checker check = new Checker();
                    check.next[id] = 0;
                    try (ChildJvm child = ChildJvm.start(RingChild.class, "produce-then-claim", r.name(), "0", Integer.toString(id),
                            Long.toString(count))) {
                        long deadline = System.nanoTime() + WAIT.toNanos();
                        while (check.count < count && System.nanoTime() < deadline) {
                            if (c.read(check, 256) == 0) {
                                Thread.yield();
                            }
                        }
                        child.awaitPrefix("CLAIMED ", WAIT);
                        child.kill();
                    }
                    expectedSkipped++;
                    // the claim is skipped, and the ring goes on: a message from this process after it
                    try (RingProducer p = ring.producer()) {
                        long at;
                        while ((at = p.tryClaim(1 + (int) (count % 3), RingChild.length(id, count))) < 0) {
                            c.read(check, 256);
                        }
                        RingChild.fill(p.buffer(), at, id, count, RingChild.length(id, count));
                        p.commit(at);
                    }
                    check.readUntil(c, count + 1, WAIT);
                    assertThat(c.skippedClaims()).as("round " + round).isEqualTo(expectedSkipped);

                    if (round % 2 == 1) { // dies between the tail's compare-and-set and the header store
                        Checker gap = new Checker();
                        try (ChildJvm child = ChildJvm.start(RingChild.class, "gap-and-die", r.name(), "0", "7")) {
                            child.awaitPrefix("GAP ", WAIT);
                            assertThat(child.awaitExit(WAIT)).isZero();
                        }
                        expectedSkipped++;
                        try (RingProducer p = ring.producer()) {
                            MemorySegment m = Arena.ofAuto().allocate(RingChild.length(7, 1));
                            RingChild.fill(m, 0, 7, 1, (int) m.byteSize());
                            while (!p.write(2, m)) {
                                c.read(gap, 256);
                            }
                        }
                        gap.readUntil(c, 2, WAIT); // seq 0 before the gap, seq 1 after it
                        assertThat(c.skippedClaims()).isEqualTo(expectedSkipped);
                    }
                }
                RingState s = ring.state();
                assertThat(s.skippedClaims()).isEqualTo(expectedSkipped);
                assertThat(s.lag()).isZero();
                assertThat(s.producersAlive()).isZero();
            }
        }
    }

    /** A consumer killed with SIGKILL in full flow; the next one resumes where the region says, and nothing is lost. */
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aConsumerKilledAndRestartedResumesFromTheLastConsumedPosition(Addressing addressing) throws InterruptedException {
        long count = 300_000L * SCALE;
        try (RingTest.TestRegion r = RingTest.TestRegion.create(addressing, 4 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.ONE_TO_ONE, 16 << 10);
            r.region().segment().asSlice(PROGRESS, 64).fill((byte) 0xFF); // -1: nothing seen yet
            try (ChildJvm producer = ChildJvm.startTiered(TIERED, RingChild.class, "produce", r.name(), "0", "3", Long.toString(count))) {
                try (ChildJvm first = ChildJvm.startTiered(TIERED, RingChild.class, "consume", r.name(), "0", Long.toString(count),
                        Long.toString(PROGRESS))) {
                    first.awaitPrefix("READY", WAIT);
                    long deadline = System.nanoTime() + WAIT.toNanos();
                    while (r.region().segment().get(JAVA_LONG, PROGRESS + 24) < count / 3 && System.nanoTime() < deadline) {
                        Thread.sleep(1);
                    }
                    first.kill();
                }
                long killedAt = r.region().segment().get(JAVA_LONG, PROGRESS + 24);
                assertThat(killedAt).isBetween(count / 3, count - 1);
                RingState afterKill = ring.state();
                assertThat(afterKill.consumer().alive()).isFalse();
                try (ChildJvm second = ChildJvm.startTiered(TIERED, RingChild.class, "consume", r.name(), "0", Long.toString(count),
                        Long.toString(PROGRESS))) {
                    long resumedFrom = Long.parseLong(second.awaitPrefix("READY ", WAIT));
                    assertThat(resumedFrom).isBetween(killedAt - 63, killedAt + 1); // consumed count in the region
                    assertThat(second.awaitPrefix("RESULT ", WAIT)).isEqualTo(Long.toString(count));
                    assertThat(second.awaitExit(WAIT)).isZero();
                }
                assertThat(producer.awaitExit(WAIT)).isZero();
            }
            assertThat(r.region().segment().get(JAVA_LONG, PROGRESS + 24)).isEqualTo(count - 1);
            assertThat(ring.state().lag()).isZero();
        }
    }

    /**
     * A consumer killed at each store of its release of a batch it had handled (after the intents,
     * after the zeroes, after the count): the next consumer finishes that batch and the ring's count
     * and head move together. Before the consumed intent, a consumer killed after zeroing left the
     * count a batch short while its successor moved the head: a restarted consumer waiting for a
     * total then waited for good (RingCrossProcessTest's restart test hung so, "READY 102520").
     */
    @ParameterizedTest
    @ValueSource(strings = {"ringConsumer.intents", "ringConsumer.zeroed", "ringConsumer.counted"})
    void aConsumerKilledInsideItsReleaseLeavesTheCountAndTheHeadTogether(String point) {
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 1 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.ONE_TO_ONE, 4096);
            try (RingProducer p = ring.producer()) {
                for (int i = 0; i < 10; i++) {
                    assertThat(p.write(1, RingTest.payload(i, 24))).isTrue();
                }
            }
            long tail = ring.state().produced();
            try (ChildJvm child = ChildJvm.start(TEST_POINTS, RingChild.class, "consume-die-at", r.name(), "0", point)) {
                assertThat(child.awaitPrefix("DYING ", WAIT)).isEqualTo("10");
                assertThat(child.awaitExit(WAIT)).isEqualTo(3);
            }
            assertThat(ring.ring.get(JAVA_LONG, RingLayout.HEAD_INTENT_OFFSET)).as("the dead consumer's batch").isEqualTo(tail);
            try (RingConsumer c = ring.consumer()) {
                assertThat(c.position()).isEqualTo(tail);
                assertThat(c.consumed()).as("the count of the batch handed out").isEqualTo(10);
                assertThat(RingTest.drain(c)).isEmpty();
                assertThat(ring.state().consumedMessages()).isEqualTo(10);
            }
        }
    }

    /**
     * A one-to-one producer killed inside a claim, at the points of its claim: after its claim header
     * and before its tail store (after 3 messages, and after 25 when the claim wraps, its header at
     * buffer index 0), and after its tail store before its wrap padding. The consumer never pads an
     * unpublished claim (its head never passes the tail), the next producer starts whole where the
     * dead one stopped, and a published claim is padded by whichever comes first, the consumer (grace
     * 0) or the next producer (the consumer's grace an hour). Before, the consumer padded the
     * unpublished claim, its head passed the tail (96 against 64), and the next producer's first
     * message was lost and every later one displaced by a lap.
     */
    @ParameterizedTest
    @CsvSource({"ringProducer.beforeTail, 3, 0, 0", "ringProducer.beforeTail, 25, 0, 0", "ringProducer.afterTail, 25, 0, 2",
        "ringProducer.afterTail, 25, 3600000, 2"})
    void aOneToOneProducerKilledInsideItsClaimLeavesTheNextProducerWhole(String point, long count, long graceMillis, long skipped) {
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 1 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.ONE_TO_ONE, 1024);
            List<Long> got = new ArrayList<>();
            MessageHandler handler = (type, buffer, at, length) -> {
                for (int k = 8; k < length; k += 8) {
                    assertThat(buffer.get(JAVA_LONG, at + k)).as("whole").isEqualTo(buffer.get(JAVA_LONG, at));
                }
                got.add(buffer.get(JAVA_LONG, at));
            };
            try (RingConsumer c = ring.consumer(Duration.ofMillis(graceMillis));
                 ChildJvm child = ChildJvm.start(TEST_POINTS, RingChild.class, "produce-die-at", r.name(), "0", Long.toString(count), point)) {
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (got.size() < count && System.nanoTime() < deadline) {
                    c.read(handler, 100);
                }
                assertThat(child.awaitPrefix("DYING ", WAIT)).isEqualTo(Long.toString(count));
                assertThat(child.awaitExit(WAIT)).isEqualTo(3);
                long until = System.nanoTime() + 300_000_000L;
                while (System.nanoTime() < until) { // the consumer looks at the dead claim, and (grace 0) resolves what it may
                    c.read(handler, 100);
                    assertThat(ring.headPosition()).as("the head never passes the tail").isLessThanOrEqualTo(ring.tailPosition());
                }
                deadline = System.nanoTime() + WAIT.toNanos();
                try (RingProducer p = ring.producer()) {
                    for (long v = 100; v < 140; v++) { // more than a lap
                        while (!p.write(1, RingTest.words(v, 4))) {
                            c.read(handler, 100);
                            assertThat(System.nanoTime()).as("the ring makes room (got %s)", got).isLessThan(deadline);
                        }
                    }
                }
                while (got.size() < count + 40 && System.nanoTime() < deadline) {
                    c.read(handler, 100);
                }
                List<Long> expected = new ArrayList<>();
                for (long v = 0; v < count; v++) {
                    expected.add(v);
                }
                for (long v = 100; v < 140; v++) {
                    expected.add(v);
                }
                assertThat(got).isEqualTo(expected);
                assertThat(c.skippedClaims()).isEqualTo(skipped);
                assertThat(ring.size()).isZero();
                assertThat(ring.headPosition()).isEqualTo(ring.tailPosition());
            }
        }
    }

    /**
     * A broadcast transmitter killed inside a record (its intent, header and sequence stored, not its
     * payload or tail) over a lap of older messages; the next transmitter pads the dead one's record
     * before it moves the tail, so a receiver that kept up gets every message whole and none stale.
     * Before, the tail moved to the intent with nothing written between: the receiver got the dead
     * one's header over the previous lap's payload (9999s) as a valid message.
     */
    @Test
    void aTransmitterRestartedAfterOneDiedInsideARecordHandsOutNoTornOrStaleMessage() {
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 1 << 20)) {
            try (BroadcastTransmitter t = BroadcastTransmitter.create(r.region(), 0, 1024)) {
                for (int i = 0; i < 40; i++) { // more than a lap of 48-byte records
                    t.transmit(1, RingTest.words(9999, 4));
                }
            }
            BroadcastReceiver receiver = BroadcastReceiver.attach(r.region(), 0);
            List<Long> got = new ArrayList<>();
            MessageHandler handler = (type, buffer, at, length) -> {
                for (int k = 8; k < length; k += 8) {
                    assertThat(buffer.get(JAVA_LONG, at + k)).as("whole").isEqualTo(buffer.get(JAVA_LONG, at));
                }
                got.add(buffer.get(JAVA_LONG, at));
            };
            try (ChildJvm child = ChildJvm.start(TEST_POINTS, RingChild.class, "transmit-die-at", r.name(), "0", "5",
                     "broadcastTransmitter.beforePayload")) {
                assertThat(child.awaitPrefix("DYING ", WAIT)).isEqualTo("5");
                assertThat(child.awaitExit(WAIT)).isEqualTo(3);
            }
            receiver.read(handler, 100);
            assertThat(got).containsExactly(1000L, 1001L, 1002L, 1003L, 1004L);
            try (BroadcastTransmitter t = BroadcastTransmitter.attach(r.region(), 0)) {
                t.transmit(1, RingTest.words(7777, 4));
            }
            receiver.read(handler, 100);
            assertThat(got).containsExactly(1000L, 1001L, 1002L, 1003L, 1004L, 7777L);
            assertThat(receiver.lapped()).isZero();
        }
    }

    /**
     * A producer blocked on a full ring: with a 100 ms timeout it gives up (FULL) after it; with 30 s
     * it sleeps in the kernel until a consumer in another process frees room and wakes it (the space
     * wake calls count that wake).
     */
    @Test
    void aProducerWaitsForRoomWithATimeoutAndIsWokenByAConsumerInAnotherProcess() {
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 1 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.ONE_TO_ONE, 1024);
            try (RingProducer p = ring.producer()) {
                MemorySegment m = RingTest.words(1, 3);
                int sent = 0;
                while (p.write(1, m)) {
                    sent++;
                }
                assertThat(sent).isEqualTo(1024 / 32);
                long t0 = System.nanoTime();
                assertThat(p.claim(1, 24, Duration.ofMillis(100))).isEqualTo(RingProducer.FULL);
                assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(100_000_000L);
                long slept = p.waits();
                assertThat(slept).as("it slept in the kernel, 1 ms at a time at most").isPositive();
                try (ChildJvm child = ChildJvm.start(RingChild.class, "await", r.name(), "0")) {
                    t0 = System.nanoTime();
                    assertThat(p.write(1, m, Duration.ofSeconds(30))).isTrue();
                    long waited = System.nanoTime() - t0;
                    assertThat(child.awaitPrefix("WOKE ", WAIT)).startsWith("ready=true value=1");
                    assertThat(child.awaitExit(WAIT)).isZero();
                    assertThat(p.waits()).isGreaterThan(slept);
                    assertThat(ring.ring.get(JAVA_LONG, RingLayout.SPACE_WAKE_CALLS_OFFSET)).as("the consumer's wake").isPositive();
                    System.out.println("the producer waited " + waited / 1_000_000 + " ms for the child consumer");
                }
            }
        }
    }

    /**
     * A dead producer's gap [0, 48) (its entry's intent, the tail moved, no header) and, after it, a
     * live producer in another process stopped between its compare-and-set of the tail and its header
     * store for 3 s. The consumer (grace 0) pads the dead gap up to the live producer's intent and
     * never over it (nor the live range itself, whose claimer is alive), and the live message arrives
     * when its producer goes on. Padding past the intent (or by pid or no liveness) would lose it: its
     * header would land behind the head. The deterministic twin of jcstress RingGapResolution, whose
     * window (a few ns) quick runs do not hit.
     */
    @Test
    void aDeadProducersGapIsPaddedUpToALiveProducersClaimAndNeverOverIt() {
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 1 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.MANY_TO_ONE, 4096, 4);
            long dead = ring.entry(3);
            ring.ring.set(JAVA_LONG, dead + RingLayout.ENTRY_CLAIM_START_OFFSET, 0);
            ring.ring.set(JAVA_LONG, dead + RingLayout.ENTRY_CLAIM_END_OFFSET, 48);
            ring.ring.set(JAVA_LONG, dead + RingLayout.ENTRY_STAMP_OFFSET, 0x0000_1234_0000_0001L); // a stamp, its lock free
            ring.ring.set(JAVA_LONG, RingLayout.TAIL_OFFSET, 48);
            List<Long> got = new ArrayList<>();
            MessageHandler handler = (type, buffer, at, length) -> got.add(buffer.get(JAVA_LONG, at));
            try (RingConsumer c = ring.consumer(Duration.ZERO);
                 ChildJvm child = ChildJvm.start(TEST_POINTS, RingChild.class, "produce-stall-at", r.name(), "0",
                     "ringProducer.afterTailCas", "3000")) {
                child.awaitLine("STALLED"::equals, WAIT);
                assertThat(ring.tailPosition()).as("the live producer took [48, 88)").isEqualTo(88);
                long until = System.nanoTime() + 400_000_000L;
                while (System.nanoTime() < until) {
                    c.read(handler, 10);
                }
                assertThat(c.skippedClaims()).as("the dead gap, once").isEqualTo(1);
                assertThat(c.position()).as("padded up to the live intent, not over it").isEqualTo(48);
                assertThat(child.awaitPrefix("DONE ", WAIT)).isEqualTo("true");
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (got.isEmpty() && System.nanoTime() < deadline) {
                    c.read(handler, 10);
                }
                assertThat(got).containsExactly(77L);
                assertThat(c.skippedClaims()).isEqualTo(1);
                assertThat(ring.size()).isZero();
            }
        }
    }

    /** A consumer asleep in FUTEX_WAIT (no timeout) in one process is woken by a commit in another. */
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aConsumerAsleepInTheKernelIsWokenByAProducerInAnotherProcess(Addressing addressing) throws Exception {
        try (RingTest.TestRegion r = RingTest.TestRegion.create(addressing, 4 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.MANY_TO_ONE, 4096, 4);
            try (ChildJvm child = ChildJvm.start(RingChild.class, "await", r.name(), "0")) {
                child.awaitLine("SLEEPING"::equals, WAIT);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (ring.state().sleeping() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertThat(ring.state().sleeping()).isEqualTo(1);
                Thread.sleep(200); // it stays asleep: nothing wakes it but the producer
                assertThat(child.pollLine(Duration.ofMillis(1))).isNull();
                try (RingProducer p = ring.producer()) {
                    MemorySegment m = Arena.ofAuto().allocate(8);
                    m.set(JAVA_LONG, 0, 4242);
                    assertThat(p.write(1, m)).isTrue();
                }
                assertThat(child.awaitPrefix("WOKE ", WAIT)).startsWith("ready=true value=4242");
                assertThat(child.awaitExit(WAIT)).isZero();
                assertThat(ring.state().wakeCalls()).isEqualTo(1);
                assertThat(ring.state().sleeping()).isZero();
            }
        }
    }

    /** A slow receiver is lapped on purpose; it counts what it lost; no receiver ever sees a torn message. */
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void broadcastReceiversInOtherProcessesAreLappedAndCountWhatTheyLost(Addressing addressing) {
        long count = 100_000L * SCALE;
        try (RingTest.TestRegion r = RingTest.TestRegion.create(addressing, 4 << 20);
             BroadcastTransmitter t = BroadcastTransmitter.create(r.region(), 0, 8192);
             ChildJvm fast = ChildJvm.startTiered(TIERED, RingChild.class, "receive", r.name(), "0", "0");
             ChildJvm slow = ChildJvm.start(RingChild.class, "receive", r.name(), "0", "2")) {
            fast.awaitLine("READY"::equals, WAIT);
            slow.awaitLine("READY"::equals, WAIT);
            MemorySegment m = Arena.ofAuto().allocate(64);
            for (long i = 0; i < count; i++) {
                int length = 8 * (1 + (int) (i % 8));
                for (int k = 0; k < length; k += 8) {
                    m.set(JAVA_LONG, k, i);
                }
                t.transmit(i == count - 1 ? 2 : 1, m, 0, length);
                if (i % 64 == 0) {
                    Thread.yield(); // give the fast receiver a chance on two cores
                }
            }
            for (ChildJvm child : List.of(fast, slow)) {
                String result = child.awaitPrefix("RESULT ", WAIT);
                long received = Long.parseLong(result.replaceAll(".*received=(\\d+).*", "$1"));
                long lost = Long.parseLong(result.replaceAll(".*lost=(\\d+).*", "$1"));
                assertThat(received + lost).as(result).isEqualTo(count);
                assertThat(result).endsWith("last=" + (count - 1));
                if (child == slow) {
                    assertThat(result).as("the slow receiver was lapped").doesNotContain("lapped=0 ").doesNotContain(" lost=0 ");
                }
            }
            assertThat(t.transmitted()).isEqualTo(count);
        }
    }
}
