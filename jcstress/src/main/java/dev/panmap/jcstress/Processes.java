package dev.panmap.jcstress;

import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.internal.ProcessStamp;

/**
 * Two live processes, named by pid and real start time, for the tests that write process stamps:
 * this test VM and its parent (the jcstress host VM), so that a liveness check finds both alive and
 * nothing is reclaimed as dead.
 */
final class Processes {
    private Processes() {}

    static final Platform PLATFORM = Platforms.current();
    static final int PID_A = (int) ProcessHandle.current().pid();
    static final long START_A = PLATFORM.processStartTime(PID_A);
    static final int PID_B = (int) ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L).longValue();
    static final long START_B = PLATFORM.processStartTime(PID_B);
    static final long STAMP_A = ProcessStamp.of(PID_A, START_A);
    static final long STAMP_B = ProcessStamp.of(PID_B, START_B);

    static {
        if (START_A <= 0 || START_B <= 0 || PID_A == PID_B || ProcessStamp.startTag(STAMP_A) == ProcessStamp.startTag(STAMP_B)) {
            throw new IllegalStateException("need two live processes with distinct pids and start times: (" + PID_A + ", "
                + START_A + ") and (" + PID_B + ", " + START_B + ")");
        }
    }
}
