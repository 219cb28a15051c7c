package dev.panmap.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.Addressing;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Requirement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The rings' liveness where a pid says nothing: a producer or consumer in another pid namespace (a
 * container sharing {@code /dev/shm}: its pid names another process here, and our {@code /proc}
 * shows none of its), and a zombie (killed, never reaped: its pid and start time are still there).
 * The lock bytes (FORMAT.md §10.4) answer both. Judged by pid and start time, as before, a namespaced
 * producer stalling 50 ms inside its claims had 10 of 10 claims padded, and a zombie's claim wedged the
 * consumer until its parent exited.
 */
@LinuxOnly
class RingLivenessTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final List<String> NEW_PID_NAMESPACE = List.of("unshare", "--pid", "--fork", "--mount-proc", "--kill-child");

    /** Skips unless this machine can make a pid namespace (root, or user namespaces), naming why. */
    static void requirePidNamespaces() throws Exception {
        Requirement.command("unshare", "util-linux", "for a producer in its own pid namespace");
        Process p = new ProcessBuilder(List.of("unshare", "--pid", "--fork", "--mount-proc", "true")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assumeTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0,
            "cannot make a pid namespace here (unshare --pid needs root or user namespaces): " + out.strip());
    }

    /**
     * A producer in its own pid namespace stalls 50 ms inside each of 10 claims; the consumer's grace
     * is 10 ms, so it asks about each claim several times: none is skipped, no commit is refused, every
     * message arrives whole and in order. Its entry stays its own while it lives (our producer gets
     * another), and is ours once it is killed.
     */
    @Test
    void aProducerInAnotherPidNamespaceStallingInsideItsClaimsIsNeverSkipped() throws Exception {
        requirePidNamespaces();
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 1 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.MANY_TO_ONE, 16 << 10, 2);
            try (RingConsumer c = ring.consumer(Duration.ofMillis(10))) {
                try (ChildJvm child = ChildJvm.startWrapped(NEW_PID_NAMESPACE, RingChild.class, "produce-stalling", r.name(), "0", "4",
                         "10", "50")) {
                    String ready = child.awaitPrefix("READY ", WAIT);
                    assertThat(ready).startsWith("entry=0 ");
                    int pidThere = Integer.parseInt(ready.replaceAll(".*pid=", ""));
                    assertThat(pidThere).as("its pid in its namespace").isLessThan(10);
                    RingCrossProcessTest.Checker check = new RingCrossProcessTest.Checker();
                    check.readUntil(c, 10, WAIT);
                    assertThat(child.awaitPrefix("DONE ", WAIT)).isEqualTo("refused=0");
                    assertThat(c.skippedClaims()).as("claims of a live producer skipped").isZero();
                    assertThat(c.livenessChecks()).as("the consumer did ask").isPositive();
                    assertThat(ring.state().producers()).singleElement().satisfies(p -> {
                        assertThat(p.pid()).isEqualTo(pidThere);
                        assertThat(p.alive()).isTrue();
                    });
                    try (RingProducer ours = ring.producer()) {
                        assertThat(ours.entryIndex()).as("the namespaced producer's entry is not taken").isEqualTo(1);
                    }
                    child.kill();
                }
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (ring.state().producersAlive() != 0 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                try (RingProducer ours = ring.producer()) {
                    assertThat(ours.entryIndex()).as("a dead producer's entry, its claims consumed").isZero();
                }
            }
        }
    }

    /** A consumer in its own pid namespace keeps its place while it lives; killed, its place is free. */
    @Test
    void aConsumerInAnotherPidNamespaceKeepsItsPlace() throws Exception {
        requirePidNamespaces();
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 1 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.ONE_TO_ONE, 4096);
            try (ChildJvm child = ChildJvm.startWrapped(NEW_PID_NAMESPACE, RingChild.class, "await", r.name(), "0")) {
                child.awaitLine("SLEEPING"::equals, WAIT);
                assertThatThrownBy(ring::consumer).isInstanceOf(IllegalStateException.class).hasMessageContaining("has a consumer already");
                assertThat(ring.state().consumer().alive()).isTrue();
                child.kill();
            }
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (ring.state().consumer().alive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            ring.consumer().close();
        }
    }

    /**
     * A producer killed inside its claim and never reaped (a zombie: its parent, a Python keeper, never
     * waits for it) is dead to the ring at once: the kernel let its lock byte go when it died, whatever
     * /proc still shows. The consumer pads the claim after its grace and the ring goes on.
     */
    @Test
    void aZombieProducersClaimIsSkipped() throws Exception {
        Requirement.command("python3", "python3", "to keep a killed producer as a zombie");
        try (RingTest.TestRegion r = RingTest.TestRegion.create(Addressing.OFFSET, 1 << 20)) {
            Ring ring = Ring.create(r.region(), 0, Ring.Kind.MANY_TO_ONE, 16 << 10, 4);
            List<String> keeper = List.of("python3", "-c", "import subprocess, sys, time; p = subprocess.Popen(sys.argv[1:]); time.sleep(120)");
            try (RingConsumer c = ring.consumer(Duration.ofMillis(20));
                 ChildJvm child = ChildJvm.startWrapped(keeper, RingChild.class, "produce-then-claim", r.name(), "0", "2", "100")) {
                long pid = Long.parseLong(child.awaitPrefix("PID ", WAIT));
                RingCrossProcessTest.Checker check = new RingCrossProcessTest.Checker();
                check.readUntil(c, 100, WAIT);
                child.awaitPrefix("CLAIMED ", WAIT);
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!Files.readString(Path.of("/proc/" + pid + "/stat")).split(" ")[2].equals("Z")) {
                    assertThat(System.nanoTime()).as("pid %d becomes a zombie", pid).isLessThan(deadline);
                    Thread.sleep(5);
                }
                try (RingProducer p = ring.producer()) {
                    long at = p.tryClaim(2, RingChild.length(2, 100)); // type 1 + seq % 3
                    RingChild.fill(p.buffer(), at, 2, 100, RingChild.length(2, 100));
                    p.commit(at);
                }
                long t0 = System.nanoTime();
                check.readUntil(c, 101, Duration.ofSeconds(5)); // the zombie's claim padded, our message after it
                assertThat(c.skippedClaims()).isEqualTo(1);
                assertThat(Files.readString(Path.of("/proc/" + pid + "/stat")).split(" ")[2]).as("still a zombie").isEqualTo("Z");
                System.out.println("zombie's claim skipped after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            }
        }
    }
}
