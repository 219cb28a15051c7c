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
import org.junit.jupiter.params.ParameterizedTest;
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
            try (ChildJvm child = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-Dpanmap.testPoints=true"),
                     RingChild.class, "consume-die-at", r.name(), "0", point)) {
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
