package dev.panmap.internal;

import static dev.panmap.internal.RegionLayout.*;

import dev.panmap.ErrorKind;
import dev.panmap.ProcessInfo;
import dev.panmap.RegionException;
import java.util.ArrayList;
import java.util.List;

/**
 * The attached-process table in a region header (see {@link RegionLayout}): each attached process
 * holds one slot, named by its {@link ProcessStamp}. Every change of a slot is one compare-and-set of
 * that 8-byte stamp, so no lock is needed and no reader sees half a claim: claimed from 0, released
 * from the claimer's own stamp, reclaimed from the very stamp that was judged dead (a process that
 * claimed the slot in between keeps it).
 */
public final class AttachTable {
    private final Header header;
    private final int capacity;
    private final Platform platform;

    /** @param capacity the validated capacity (never re-read from the shared header) */
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
        long stamp = ProcessStamp.of(pid, startTime);
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            if (header.getLongVolatile(slot + SLOT_STAMP_OFFSET) == 0 && header.compareAndSetLong(slot + SLOT_STAMP_OFFSET, 0, stamp)) {
                header.putLong(slot + SLOT_START_OFFSET, startTime);
                header.putLong(slot + SLOT_ATTACHED_MILLIS_OFFSET, System.currentTimeMillis());
                return i;
            }
        }
        throw new RegionException(ErrorKind.LIMIT_REACHED, "the attach table of " + regionName + " is full: all "
            + capacity + " slots belong to live processes (create the region with a larger maxAttached)");
    }

    /** Frees slot {@code index}, which this process claimed with {@code (pid, startTime)}. */
    public void deregister(int index, int pid, long startTime) {
        header.compareAndSetLong(slotOffset(index) + SLOT_STAMP_OFFSET, ProcessStamp.of(pid, startTime), 0);
    }

    /** Frees every slot whose process is gone. @return how many */
    public int reclaimDead() {
        int freed = 0;
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            long stamp = header.getLongVolatile(slot + SLOT_STAMP_OFFSET);
            if (stamp != 0 && !ProcessStamp.alive(platform, stamp) && header.compareAndSetLong(slot + SLOT_STAMP_OFFSET, stamp, 0)) {
                freed++;
            }
        }
        return freed;
    }

    /** {@return the processes in the table, live or not} */
    public List<ProcessInfo> list() {
        List<ProcessInfo> out = new ArrayList<>();
        for (int i = 0; i < capacity; i++) {
            long slot = slotOffset(i);
            long stamp = header.getLongVolatile(slot + SLOT_STAMP_OFFSET);
            if (stamp != 0) {
                out.add(ProcessStamp.info(platform, stamp, header.getLong(slot + SLOT_START_OFFSET)));
            }
        }
        return out;
    }
}
