package dev.panmap.internal;

import dev.panmap.ProcessInfo;

/**
 * A process named in one 8-byte word, so that the words that say who holds the writer lock or an
 * attach slot are written, compared-and-set and read as one unit: a reader can never pair one
 * process's pid with another's start time.
 *
 * <pre>
 *   63                              32 31                               0
 *  +----------------------------------+----------------------------------+
 *  |  low 32 bits of the start time   |               pid                |
 *  +----------------------------------+----------------------------------+
 * </pre>
 *
 * <p>0 means "nobody" (no process has pid 0). The start time (Linux: clock ticks since boot, field 22
 * of {@code /proc/PID/stat}) tells a live process from a later one that reused its pid; its low 32
 * bits are enough for that: a reused pid would have to come back a multiple of 2^32 ticks (497 days
 * at 100 Hz) later to look alive. The full start time is kept beside the word for tools only; no
 * liveness decision reads it.
 */
public final class ProcessStamp {
    private ProcessStamp() {}

    /** The word for {@code (pid, startTime)}; never 0 for a real pid. */
    public static long of(int pid, long startTime) {
        return (startTime << 32) | Integer.toUnsignedLong(pid);
    }

    public static int pid(long stamp) {
        return (int) stamp;
    }

    /** {@return the low 32 bits of the start time the stamp was made with} */
    public static int startTag(long stamp) {
        return (int) (stamp >>> 32);
    }

    /**
     * {@return whether the process the stamp names is alive}: a process with that pid exists and the
     * low 32 bits of its start time match; where its start time cannot be read ({@code /proc} mounted
     * with {@code hidepid}), whether the pid exists decides.
     */
    public static boolean alive(Platform platform, long stamp) {
        int pid = pid(stamp);
        if (stamp == 0 || pid <= 0) {
            return false;
        }
        long now = platform.processStartTime(pid);
        if (now == -1) { // gone, or /proc hides it: ask the kernel
            return platform.processExists(pid);
        }
        return (int) now == startTag(stamp);
    }

    /**
     * {@return what a record says of a process whose liveness is known} (from the system's locks): the
     * pid, the recorded start time if it belongs to the stamp (else the stamp's tag), and {@code alive}
     */
    public static ProcessInfo info(long stamp, long recordedStart, boolean alive) {
        long start = (int) recordedStart == startTag(stamp) && recordedStart != 0 ? recordedStart : Integer.toUnsignedLong(startTag(stamp));
        return new ProcessInfo(pid(stamp), start, alive);
    }

    /**
     * {@return what a tool shows for a stamp, judged by pid and start time}: the full start time is
     * taken from {@code recordedStart} (the informational field beside the word) only when it agrees
     * with the stamp, else from the live process, else the stamp's 32 bits are all there is.
     */
    public static ProcessInfo info(Platform platform, long stamp, long recordedStart) {
        boolean alive = alive(platform, stamp);
        long start;
        if ((int) recordedStart == startTag(stamp) && recordedStart != 0) {
            start = recordedStart;
        } else if (alive) {
            long now = platform.processStartTime(pid(stamp));
            start = now == -1 ? Integer.toUnsignedLong(startTag(stamp)) : now;
        } else {
            start = Integer.toUnsignedLong(startTag(stamp));
        }
        return new ProcessInfo(pid(stamp), start, alive);
    }
}
