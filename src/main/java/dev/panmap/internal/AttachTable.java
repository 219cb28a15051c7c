package dev.panmap.internal;

import static dev.panmap.internal.RegionLayout.*;

import dev.panmap.ErrorKind;
import dev.panmap.ProcessInfo;
import dev.panmap.RegionException;
import java.util.ArrayList;
import java.util.List;

/**
 * The attached-process table in a region header (see {@link RegionLayout}): each attached process
 * holds one slot, named by its {@link ProcessStamp}.
 *
 * <p><b>Where the system keeps liveness</b> ({@link Platform#kernelLiveness}, POSIX): slot {@code i}
 * belongs to the process that holds the OFD lock on object byte {@link RegionLayout#SLOT_LOCK_BYTE}
 * {@code + i}. A process takes that lock before it writes its stamp, and clears its stamp before it
 * lets the lock go; the kernel drops the lock when the process dies. So a slot is free exactly when its
 * lock is, a stamp whose lock is free was left by a dead process, and no pid is ever compared: the
 * table reads right across pid namespaces (containers sharing {@code /dev/shm}). The stamp's pid and
 * start time are information for tools.
 *
 * <p><b>Elsewhere</b> (Windows): every change of a slot is one compare-and-set of its 8-byte stamp:
 * claimed from 0, released from the claimer's own stamp, reclaimed from the very stamp that was judged
 * dead by pid and start time (a process that claimed the slot in between keeps it).
 */
public final class AttachTable {
    private final Header header;
    private final int capacity;
    private final Platform platform;
    private final Platform.Handle handle;
    private final long lockBase;
    private final boolean kernel;
    private int ownSlot = -1;

    /**
     * @param capacity the validated capacity (never re-read from the shared header)
     * @param lockBase the object byte whose lock is slot 0's liveness ({@link RegionLayout#SLOT_LOCK_BYTE})
     */
    public AttachTable(Header header, int capacity, Platform platform, Platform.Handle handle, long lockBase) {
        this.header = header;
        this.capacity = capacity;
        this.platform = platform;
        this.handle = handle;
        this.lockBase = lockBase;
        this.kernel = platform.kernelLiveness(handle);
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
        long stamp = ProcessStamp.of(pid, startTime);
        if (kernel) {
            for (int i = 0; i < capacity; i++) {
                if (platform.tryLockByte(handle, lockBase + i)) { // no live process holds slot i: it is ours
                    long slot = slotOffset(i);
                    header.putLong(slot + SLOT_START_OFFSET, startTime);
                    header.putLong(slot + SLOT_ATTACHED_MILLIS_OFFSET, System.currentTimeMillis());
                    header.putLongRelease(slot + SLOT_STAMP_OFFSET, stamp); // over a dead process's stamp, if any
                    ownSlot = i;
                    tidyDead();
                    return i;
                }
            }
            throw full(regionName);
        }
        reclaimDead();
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            if (header.getLongVolatile(slot + SLOT_STAMP_OFFSET) == 0 && header.compareAndSetLong(slot + SLOT_STAMP_OFFSET, 0, stamp)) {
                header.putLong(slot + SLOT_START_OFFSET, startTime);
                header.putLong(slot + SLOT_ATTACHED_MILLIS_OFFSET, System.currentTimeMillis());
                ownSlot = i;
                return i;
            }
        }
        throw full(regionName);
    }

    private RegionException full(String regionName) {
        return new RegionException(ErrorKind.LIMIT_REACHED, "the attach table of " + regionName + " is full: all "
            + capacity + " slots belong to live processes (create the region with a larger maxAttached)");
    }

    /** Frees slot {@code index}, which this process claimed with {@code (pid, startTime)}: the stamp first, then its lock. */
    public void deregister(int index, int pid, long startTime) {
        header.compareAndSetLong(slotOffset(index) + SLOT_STAMP_OFFSET, ProcessStamp.of(pid, startTime), 0);
        if (kernel) {
            platform.unlockByte(handle, lockBase + index);
        }
        ownSlot = -1;
    }

    /** {@return whether the process named in slot {@code i} by {@code stamp} is alive} */
    private boolean alive(int i, long stamp) {
        if (!kernel) {
            return ProcessStamp.alive(platform, stamp);
        }
        // the lock of our own slot is this descriptor's and never shows as held "elsewhere"
        return i == ownSlot || platform.lockedElsewhere(handle, lockBase + i);
    }

    /**
     * Clears the stamps of dead processes, where liveness is judged by pid (no kernel liveness):
     * registration claims only cleared slots there. With kernel liveness register() takes the first
     * slot whose lock is free, then tidies the others ({@link #tidyDead()}).
     */
    private void reclaimDead() {
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            long stamp = header.getLongVolatile(slot + SLOT_STAMP_OFFSET);
            if (stamp != 0 && !alive(i, stamp)) {
                header.compareAndSetLong(slot + SLOT_STAMP_OFFSET, stamp, 0); // from the very stamp judged dead
            }
        }
    }

    /**
     * Clears the stamps that dead processes left in slots other than ours (kernel liveness, FORMAT.md
     * §3.4 "a tidying process"): a stamped slot whose lock we can take has no live holder; holding its
     * lock, we clear the stamp from the very value read, then let the lock go. Without this a dead
     * process's stamp stays listed until a later attach happens to claim that same slot. It costs one
     * {@code fcntl} per stamped slot, none per empty one.
     */
    private void tidyDead() {
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            long stamp = header.getLongVolatile(slot + SLOT_STAMP_OFFSET);
            if (i != ownSlot && stamp != 0 && platform.tryLockByte(handle, lockBase + i)) {
                header.compareAndSetLong(slot + SLOT_STAMP_OFFSET, stamp, 0);
                platform.unlockByte(handle, lockBase + i);
            }
        }
    }

    /** {@return the processes in the table, live or not} */
    public List<ProcessInfo> list() {
        List<ProcessInfo> out = new ArrayList<>();
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            long stamp = header.getLongVolatile(slot + SLOT_STAMP_OFFSET);
            if (stamp != 0) {
                out.add(ProcessStamp.info(stamp, header.getLong(slot + SLOT_START_OFFSET), alive(i, stamp)));
            }
        }
        return out;
    }
}
