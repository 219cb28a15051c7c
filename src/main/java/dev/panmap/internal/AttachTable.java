package dev.panmap.internal;

import static dev.panmap.internal.RegionLayout.*;

import dev.panmap.ErrorKind;
import dev.panmap.ProcessInfo;
import dev.panmap.RegionException;
import java.util.ArrayList;
import java.util.List;

/**
 * The attached-process table in a region header (see {@link RegionLayout}): each attached process
 * holds one slot with its pid and start time. Claims and releases are compare-and-set on the pid
 * word, so no lock is needed; slots of dead processes are reclaimed on the next attach.
 */
public final class AttachTable {
    private final Header header;
    private final int capacity;
    private final Platform platform;

    public AttachTable(Header header, int capacity, Platform platform) {
        this.header = header;
        this.capacity = capacity;
        this.platform = platform;
    }

    /** {@return the number of slots} */
    public int capacity() {
        return capacity;
    }

    /**
     * Registers a process: reclaims the slots of dead processes, then claims a free one.
     *
     * @return the slot index
     * @throws RegionException {@link ErrorKind#LIMIT_REACHED} if every slot belongs to a live process
     */
    public int register(String regionName, int pid, long startTime) {
        reclaimDead();
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            if (header.getIntVolatile(slot + SLOT_PID_OFFSET) == 0 && header.compareAndSetInt(slot + SLOT_PID_OFFSET, 0, pid)) {
                header.putLong(slot + SLOT_ATTACHED_MILLIS_OFFSET, System.currentTimeMillis());
                header.putLongRelease(slot + SLOT_START_OFFSET, startTime);
                return i;
            }
        }
        throw new RegionException(ErrorKind.LIMIT_REACHED, "the attach table of " + regionName + " is full: all "
            + capacity + " slots belong to live processes (create the region with a larger maxAttached)");
    }

    /** Frees slot {@code index}, which this process claimed. */
    public void deregister(int index, int pid) {
        long slot = slotOffset(index);
        header.putLongRelease(slot + SLOT_START_OFFSET, 0);
        header.compareAndSetInt(slot + SLOT_PID_OFFSET, pid, 0);
    }

    /** Frees every slot whose process is gone. @return how many */
    public int reclaimDead() {
        int freed = 0;
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            int pid = header.getIntVolatile(slot + SLOT_PID_OFFSET);
            if (pid != 0) {
                long start = header.getLongAcquire(slot + SLOT_START_OFFSET);
                // the dead start time goes first: a process that claims the freed pid word before it
                // writes its own start must never be judged by its predecessor's start time
                if (!alive(pid, start) && (start == 0 || header.compareAndSetLong(slot + SLOT_START_OFFSET, start, 0))
                    && header.compareAndSetInt(slot + SLOT_PID_OFFSET, pid, 0)) {
                    freed++;
                }
            }
        }
        return freed;
    }

    /** {@return the processes in the table, live or not} */
    public List<ProcessInfo> list() {
        List<ProcessInfo> out = new ArrayList<>();
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            int pid = header.getIntVolatile(slot + SLOT_PID_OFFSET);
            if (pid != 0) {
                long start = header.getLongAcquire(slot + SLOT_START_OFFSET);
                out.add(new ProcessInfo(pid, start, alive(pid, start)));
            }
        }
        return out;
    }

    /** Whether the process named by pid and start time (0: not yet written) is alive. */
    boolean alive(int pid, long startTime) {
        return Liveness.alive(platform, pid, startTime);
    }
}
