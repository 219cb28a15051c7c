package dev.panmap.internal;

/** One rule for "is the process recorded as (pid, start time) still alive". */
public final class Liveness {
    private Liveness() {}

    /**
     * A start time of 0 means "not recorded yet" (a slot being filled): then the pid alone decides.
     * Otherwise the process must exist with that same start time, so a reused pid reads as dead;
     * where its start time cannot be read ({@code /proc} mounted with {@code hidepid}), whether the
     * pid exists decides.
     */
    public static boolean alive(Platform platform, int pid, long startTime) {
        if (pid <= 0) {
            return false;
        }
        if (startTime == 0) {
            return platform.processExists(pid);
        }
        long now = platform.processStartTime(pid);
        if (now == -1) { // gone, or /proc hides it (hidepid): ask the kernel instead
            return platform.processExists(pid);
        }
        return now == startTime;
    }
}
