package dev.panmap.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.testing.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dead producer's claim, skipped by a consumer, is a {@code dev.panmap.RingClaimSkipped} event
 * naming the region, the ring, the claim's position and size, and the dead producer's pid (from its
 * entry's stamp): the operator's answer to "where did that message go".
 */
class RingClaimSkippedEventTest {
    private static final Duration WAIT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @Test
    void aKilledProducersSkippedClaimIsRecordedWithItsPositionSizeAndPid() throws Exception {
        long capacity = 16 << 10;
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 4 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.MANY_TO_ONE, capacity, 8);
            Path file = dir.resolve("skipped.jfr");
            long claimedAt;
            long pid;
            try (RingConsumer c = ring.consumer(Duration.ofMillis(20)); Recording recording = new Recording()) {
                recording.enable("dev.panmap.RingClaimSkipped");
                recording.start();
                RingCrossProcessTest.Checker check = new RingCrossProcessTest.Checker();
                check.next[3] = 0;
                try (ChildJvm child = ChildJvm.start(RingChild.class, "produce-then-claim", r.name(), "0", "3", "100")) {
                    pid = child.pid();
                    check.readUntil(c, 100, WAIT);
                    claimedAt = Long.parseLong(child.awaitPrefix("CLAIMED ", WAIT).trim());
                    child.kill();
                }
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (c.skippedClaims() == 0 && System.nanoTime() < deadline) {
                    c.read(check, 16);
                    Thread.sleep(1);
                }
                assertThat(c.skippedClaims()).isEqualTo(1);
                recording.stop();
                recording.dump(file);
            }
            List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.panmap.RingClaimSkipped")).toList();
            assertThat(events).hasSize(1);
            RecordedEvent e = events.get(0);
            assertThat(e.getString("region")).isEqualTo(r.region().name());
            assertThat(e.getLong("ringOffset")).isZero();
            assertThat(e.getLong("bytes")).isPositive();
            assertThat(e.getInt("producerPid")).isEqualTo((int) pid);
            // the claim's header sits just before the payload the child was handed
            assertThat(e.getLong("position") & (capacity - 1)).isEqualTo(claimedAt - 8);
        }
    }
}
