package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.RegionChild;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Liveness across pid namespaces (containers that share {@code /dev/shm} without {@code --pid=host}):
 * a child JVM in a new pid namespace ({@code unshare --pid --fork --mount-proc}, as root) is pid 1 or
 * so there, a number that names another, live process here, and its {@code /proc} shows none of ours.
 * Judged by pid and start time, its death would go unseen here and our life would look like death
 * there. The attach table and the writer lock judge by the kernel's OFD locks instead, both ways.
 */
@LinuxOnly
class PidNamespaceLivenessTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<String> NEW_PID_NAMESPACE = List.of("unshare", "--pid", "--fork", "--mount-proc", "--kill-child");

    // before each test, not all: a skip in @BeforeAll leaves surefire reporting no test, and make test's skipped list empty
    @BeforeEach
    void canUnshare() throws Exception {
        Process p = new ProcessBuilder(List.of("unshare", "--pid", "--fork", "--mount-proc", "true")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assumeTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0,
            "cannot make a pid namespace here (unshare --pid needs root or user namespaces): " + out.strip());
    }

    @Test
    void aProcessInAnotherPidNamespaceIsAliveWhileItRunsAndDeadWhenKilled() throws Exception {
        String name = Names.unique("pidns-a");
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(4096))) {
            int childPid;
            try (ChildJvm child = ChildJvm.startWrapped(NEW_PID_NAMESPACE, RegionChild.class)) {
                String ready = child.awaitPrefix("READY pid=", WAIT);
                childPid = Integer.parseInt(ready.trim());
                assertThat(childPid).as("its pid there").isLessThan(10);
                child.send("open shm " + name + " OPEN_ONLY");
                child.awaitPrefix("OPENED", WAIT);
                child.send("lock");
                child.awaitPrefix("LOCKED", WAIT);

                // seen from here: attached and holding the lock, alive, although its pid names another process here
                assertThat(region.attachedProcesses()).filteredOn(p -> p.pid() == childPid).singleElement()
                    .extracting(ProcessInfo::alive).isEqualTo(true);
                assertThat(region.writerLock().holder().get().pid()).isEqualTo(childPid);
                assertThat(region.writerLock().holder().get().alive()).isTrue();
                assertThat(region.writerLock().tryLock()).isFalse();
                child.kill();
            }
            // dead: the kernel dropped its locks, whatever process has its pid here
            awaitDead(region, childPid);
            assertThat(region.writerLock().holder()).get().extracting(ProcessInfo::alive).isEqualTo(false);
            assertThat(region.writerLock().tryLock()).isTrue();
            assertThat(region.writerLock().staleRecoveries()).isEqualTo(1);
            assertThat(region.writerLock().lastStaleHolder()).get().extracting(ProcessInfo::pid).isEqualTo(childPid);
            region.writerLock().unlock();
        } finally {
            SharedRegion.remove(name);
        }
    }

    @Test
    void fromInsideAnotherPidNamespaceOurLiveProcessesAreAliveAndTheKilledOnesDead() throws Exception {
        String name = Names.unique("pidns-b");
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(4096))) {
            int ourPid = (int) ProcessHandle.current().pid();
            int victimPid;
            try (ChildJvm victim = ChildJvm.start(RegionChild.class)) { // in our namespace
                victim.awaitPrefix("READY", WAIT);
                victim.send("open shm " + name + " OPEN_ONLY");
                victim.awaitPrefix("OPENED", WAIT);
                victim.send("lock");
                victim.awaitPrefix("LOCKED", WAIT);
                victimPid = (int) victim.pid();
                victim.kill();
                victim.process().waitFor(30, TimeUnit.SECONDS);
            }
            try (ChildJvm inside = ChildJvm.startWrapped(NEW_PID_NAMESPACE, RegionChild.class)) {
                inside.awaitPrefix("READY", WAIT);
                inside.send("open shm " + name + " OPEN_READ_ONLY"); // reads the table without joining it
                inside.awaitPrefix("OPENED", WAIT);
                inside.send("attached");
                String attached = inside.awaitPrefix("ATTACHED", WAIT);
                // its /proc knows neither pid; the locks say which is alive
                assertThat(attached).contains(ourPid + ":true").contains(victimPid + ":false");
                inside.send("holder");
                assertThat(inside.awaitPrefix("HOLDER ", WAIT)).isEqualTo(victimPid + ":false");
                inside.send("exit");
            }
        } finally {
            SharedRegion.remove(name);
        }
    }

    private static void awaitDead(SharedRegion region, int pid) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (region.attachedProcesses().stream().anyMatch(p -> p.pid() == pid && p.alive())) {
            assertThat(System.nanoTime() - deadline).as("pid %d still alive in the attach table", pid).isNegative();
            Thread.sleep(20);
        }
    }
}
