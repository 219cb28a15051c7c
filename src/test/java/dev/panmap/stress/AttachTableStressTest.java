package dev.panmap.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.ProcessInfo;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The attach table across processes: {@value #CYCLERS} processes attach to and detach from one region
 * as fast as they can ({@code SharedRegion.open}, {@code close}), each checking after every attach that
 * it is in the table exactly once, while another process lists {@code attachedProcesses()} flat out
 * and checks that every process attached from before to after a listing is in it, alive. Every
 * {@value #KILL_EVERY_MILLIS} ms the test kills one of them (SIGKILL, often while attached) and starts
 * another in its place; the table has only {@value #CAPACITY} slots, so dead processes must be
 * reclaimed. Forbidden: two live processes in one slot (one of them missing), a live process missing
 * after its attach returned, the table filling up with the dead, dead entries left after a reclaiming
 * attach.
 */
@LinuxOnly
class AttachTableStressTest {
    private static final int CYCLERS = 4;
    /** This test's handle, the lister's and the cyclers' leave two slots for the dead. */
    private static final int CAPACITY = CYCLERS + 4;
    private static final long KILL_EVERY_MILLIS = 600;

    @Test
    void attachTableKeepsEveryLiveProcessAndReclaimsTheDead() {
        String target = Names.unique("stress-attach");
        try (StressRun run = StressRun.create("AttachTable", RegionOptions.defaults().size(Control.AREA + 4096));
             SharedRegion region = SharedRegion.create(target, RegionOptions.defaults().size(4096).maxAttached(CAPACITY))) {
            run.alsoRemove(target);
            StressRun.Kid[] cyclers = new StressRun.Kid[CYCLERS + 1];
            for (int j = 1; j <= CYCLERS; j++) {
                cyclers[j] = run.start("attach-cycler", j, target);
                // a cycle is system calls and the handshake that closes a shared arena, a millisecond or
                // so: C2 takes 10 to 20 s to reach it, so the test does not wait for that (it reports it)
                cyclers[j].awaitHot = false;
            }
            run.start("attach-lister", CYCLERS + 1, target, Integer.toString(CYCLERS));
            run.awaitHot();

            long[] cycles = {0};
            int[] kills = {0};
            int[] killedAttached = {0};
            long[] nextKill = {System.nanoTime() + KILL_EVERY_MILLIS * 1_000_000};
            run.measure(StressRun.STRESS, () -> {
                if (System.nanoTime() < nextKill[0]) {
                    return;
                }
                int j = 1 + kills[0] % CYCLERS;
                if (run.control.progress(j) == 0 && run.control.aux(j) == 0) {
                    // not yet attached once (a JVM start under load can outlast the kill interval):
                    // killing it now would test nothing and starve the run of cycles; wait for it
                    return;
                }
                StressRun.Kid victim = cyclers[j];
                run.control.killed(j, victim.jvm.pid()); // before the kill: the lister excuses it from here on
                run.kill(victim);
                killedAttached[0] += (int) (run.control.aux(j) & 1);
                // the victim is dead: its "attached" word must not outlive it, or, if the next cycler j
                // is killed before it first attaches (a JVM start under load outlasts KILL_EVERY_MILLIS),
                // the lister reads this victim as attached while killed(j) already names the next one
                run.control.aux(j, 0);
                cycles[0] += run.control.progress(j);
                run.control.progress(j, 0);
                kills[0]++;
                cyclers[j] = run.start("attach-cycler", j, target);
                nextKill[0] = System.nanoTime() + KILL_EVERY_MILLIS * 1_000_000;
            });
            run.stop();
            for (int j = 1; j <= CYCLERS; j++) {
                cycles[0] += run.control.progress(j);
            }
            // every child is gone: an attach reclaims the dead, and only this process's two handles remain
            try (SharedRegion fresh = SharedRegion.open(target)) {
                List<ProcessInfo> listed = fresh.attachedProcesses();
                int self = (int) ProcessHandle.current().pid();
                if (listed.size() != 2 || !listed.stream().allMatch(p -> p.pid() == self && p.alive())) {
                    run.anomaly("AttachTable: with every child gone, after a reclaiming attach, the table lists " + listed
                        + "; expected only this process (pid " + self + "), twice: the dead were not reclaimed");
                }
            }
            run.figure("attach/detach cycles: " + cycles[0] + "; cyclers killed: " + kills[0] + ", " + killedAttached[0]
                + " of them while attached; slots: " + region.maxAttached());
            run.verify();
            assertThat(kills[0]).as("cyclers killed").isGreaterThanOrEqualTo(3);
            assertThat(cycles[0]).as("attach/detach cycles").isGreaterThan(500);
            assertThat(run.total("attach-lister", "required")).as("listings that had to show an attached cycler").isGreaterThan(100);
        }
    }
}
