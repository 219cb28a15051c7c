package dev.panmap.internal;

/** One rule for "is the process recorded as (pid, start time) still alive". */
public final class Liveness {
    private Liveness() {}

    /**
     * A start time of 0 means "not recorded yet" (a slot being filled): then the pid alone decides.
     * Otherwise the process must exist with that same start time, so a reused pid reads as dead.
     */
    public static boolean alive(Platform platform, int pid, long startTime) {
        if (pid <= 0) {
            return false;
        }
        if (startTime == 0) {
            return platform.processExists(pid);
        }
        return platform.processStartTime(pid) == startTime;
    }
}
