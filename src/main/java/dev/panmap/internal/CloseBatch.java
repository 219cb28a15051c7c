package dev.panmap.internal;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * A shared arena that the segments of up to {@link #REGIONS} regions of this process are tied to, so
 * that closing them costs one JVM handshake per batch instead of one per region.
 *
 * <h2>Why</h2>
 * Closing a shared arena is a handshake with every Java thread, requested through the VM thread: on
 * this project's machines 18 us with no other thread running, 60-100 us with one busy thread, and every
 * running thread is stopped at a poll for it ({@code jmh/results/attach.md}). Paid per region, it is
 * most of an attach and close and it disturbs threads that have nothing to do with the region.
 *
 * <h2>What a region's close does instead</h2>
 * Where the platform can take a mapping out of use without giving its range back
 * ({@link Platform#retire}, POSIX), a closed region's object pages are replaced at once by private
 * zero pages: its descriptor, its locks and its memory are given back at {@code close()}, and no late
 * store can reach the object. The region's segments stay valid until the batch's arena closes, which
 * happens when every region admitted to the batch is closed and the batch is full (the thread whose
 * close is the last pays the one handshake, and the arena's cleanups turn the ranges into ordinary
 * reservations that later regions reuse). Until then a segment of a closed region reads zeros and a
 * store to it is lost, never another region's bytes (its range is not reused before the arena closes);
 * afterwards, as with a region's own arena, any access throws {@link IllegalStateException}.
 *
 * <p>What stays held meanwhile is address space: the ranges of at most {@link #REGIONS} closed regions
 * per batch that still has an open region (zero pages cost no memory until a late store writes one).
 * A batch whose arena is in use by a native call when its last region closes (a {@code force} of a
 * region of the same batch, say) is closed later, at the next admission or close.
 */
public final class CloseBatch {
    /** Regions admitted to one batch: one handshake per this many closes. */
    public static final int REGIONS = 64;

    private static final Object LOCK = new Object();
    private static CloseBatch current;                                   // guarded by LOCK
    private static final List<CloseBatch> unclosed = new ArrayList<>();  // done, but their arena was in use: guarded by LOCK

    private final Arena arena = Arena.ofShared();
    private int admitted; // guarded by LOCK
    private int open;     // guarded by LOCK

    private CloseBatch() {
    }

    /** {@return the batch a new region joins, its arena to tie segments to} Leave it with {@link #leave()}. */
    public static CloseBatch join() {
        List<CloseBatch> retry;
        CloseBatch joined;
        synchronized (LOCK) {
            if (current == null || current.admitted == REGIONS) {
                current = new CloseBatch();
            }
            joined = current;
            joined.admitted++;
            joined.open++;
            retry = takeUnclosed();
        }
        closeAll(retry);
        return joined;
    }

    /** {@return the arena of this batch} */
    public Arena arena() {
        return arena;
    }

    /**
     * One of this batch's regions is closed (and its mapping retired). The last of a full batch closes
     * the arena: a handshake, then the cleanups give the ranges back as reservations.
     */
    public void leave() {
        List<CloseBatch> done;
        synchronized (LOCK) {
            if (open <= 0) {
                throw new IllegalStateException("a region left a close batch it was not in");
            }
            open--;
            done = takeUnclosed();
            if (open == 0 && admitted == REGIONS) {
                done.add(this);
            }
        }
        closeAll(done);
    }

    /** {@return the batches whose arena could not be closed before, now to try again} Under LOCK. */
    private static List<CloseBatch> takeUnclosed() {
        List<CloseBatch> taken = new ArrayList<>(unclosed);
        unclosed.clear();
        return taken;
    }

    private static void closeAll(List<CloseBatch> batches) {
        for (CloseBatch b : batches) {
            try {
                b.arena.close();
            } catch (IllegalStateException inUse) { // a native call holds it (a force, an advise): next time
                synchronized (LOCK) {
                    unclosed.add(b);
                }
            }
        }
    }

    /**
     * Ends the batch that regions join now: the next region starts a new one, and this one's arena
     * closes when its last open region closes, or here if none is open: the ranges of its closed
     * regions are then given back (one handshake). For tests and tools that count what is held.
     */
    public static void endCurrent() {
        List<CloseBatch> done;
        synchronized (LOCK) {
            done = takeUnclosed();
            CloseBatch b = current;
            if (b != null) {
                current = null;
                b.admitted = REGIONS; // full: its last close closes it
                if (b.open == 0) {
                    done.add(b);
                }
            }
        }
        closeAll(done);
    }

    /** {@return regions admitted to the batch that regions join now, and how many of them are open} (for tests) */
    public static int[] currentCounts() {
        synchronized (LOCK) {
            return current == null ? new int[] {0, 0} : new int[] {current.admitted, current.open};
        }
    }
}
