package dev.panmap;

import static dev.panmap.internal.RegionLayout.*;

import dev.panmap.internal.Events;
import dev.panmap.internal.Header;
import dev.panmap.internal.Platform;
import dev.panmap.internal.ProcessStamp;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The exclusive writer lock of a region: one holder at a time across all processes and threads.
 * Readers never take it and are never blocked by it.
 *
 * <p><b>Crash safety.</b> The lock is an operating-system lock on the region's open file description
 * ({@code fcntl(F_OFD_SETLK)} on Linux), so the kernel releases it when the holding process dies,
 * whatever the cause: {@code kill -9}, a crash, an OOM kill. Closing some other descriptor of the
 * same file does not release it (unlike a classic {@code fcntl} lock). The header records the
 * holder, pid and start time in one word ({@code ProcessStamp}), for tools. A holder clears that
 * record before it lets the lock go, so the next holder that finds a record left behind knows its
 * holder died holding the lock: that is counted in {@link #staleRecoveries()} and reported by
 * {@link #lastStaleHolder()}. Whether the recorded holder is alive ({@link #holder()}) is whether the
 * system lock is held ({@code F_OFD_GETLK}): no pid is compared, so both are right across pid
 * namespaces (containers sharing {@code /dev/shm}). On Windows the lock is a {@code LockFileEx} byte
 * (file regions) or a named mutex that one thread per open section waits on and releases, so there
 * too it belongs to the open region, not to a thread, and the system releases it when its holder dies.
 *
 * <p><b>Threads.</b> The OS lock belongs to the open file description, which all threads of one
 * {@link SharedRegion} share, so threads are serialised in-process first. The lock is not reentrant:
 * locking it again from the holding thread throws {@link IllegalStateException}, as does
 * {@link #unlock()} from a thread that does not hold it.
 *
 * <p><b>Waiting.</b> A waiter spins briefly on the header's holder word, then parks with a growing
 * pause (up to 1 ms), and retries the non-blocking OS lock whenever the word says free or the pause
 * ends; it never sleeps in the kernel, so it can be interrupted or time out. A process with read
 * access to the region can keep writers waiting (a shared lock on the lock's byte); bound the wait
 * with {@link #tryLock(Duration)} where that matters.
 *
 * <p><b>Closing.</b> {@link SharedRegion#close()} ends every wait in this object with
 * {@link IllegalStateException} (within 10 ms), and takes the lock from a thread of this object that
 * holds it: that thread's {@link #unlock()} then frees its in-process hold and throws. No path leaves
 * the in-process lock held.
 *
 * <pre>{@code
 * try (WriterLock.Held held = region.writerLock().hold()) {
 *     // write
 * }
 * }</pre>
 */
public final class WriterLock {
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int SPINS = 50;

    private final SharedRegion region;
    private final Platform platform;
    private final Platform.Handle handle;
    private final Header header; // null for raw regions: no holder record
    private static final long LOCAL_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final ReentrantLock local = new ReentrantLock();
    private final Object state = new Object(); // guards owner and the holder record against abandon()
    private volatile Thread owner;

    WriterLock(SharedRegion region, Platform platform, Platform.Handle handle, Header header) {
        this.region = region;
        this.platform = platform;
        this.handle = handle;
        this.header = header;
    }

    /** Held lock; {@link #close()} unlocks. */
    public final class Held implements AutoCloseable {
        private boolean open = true;

        private Held() {}

        @Override
        public void close() {
            if (open) {
                open = false;
                unlock();
            }
        }
    }

    /**
     * Takes the lock, waiting as long as needed (not interruptible; see {@link #tryLock(Duration)}).
     *
     * @throws IllegalStateException if the region is closed, also while waiting (a close ends every wait)
     */
    public void lock() {
        boolean interrupted = false;
        while (true) {
            try {
                acquire(Long.MAX_VALUE);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Takes the lock and returns a guard for try-with-resources.
     *
     * @return the guard, whose {@code close()} unlocks
     */
    public Held hold() {
        lock();
        return new Held();
    }

    /**
     * Takes the lock if it is free now.
     *
     * @return whether the lock is now held by this thread
     */
    public boolean tryLock() {
        checkUsable();
        checkNotHeldByMe();
        if (!local.tryLock()) {
            return false;
        }
        try {
            if (tryOs()) {
                return true;
            }
        } catch (RuntimeException | Error e) {
            local.unlock();
            throw e;
        }
        local.unlock();
        return false;
    }

    /**
     * Takes the lock, waiting at most {@code timeout}.
     *
     * @return {@code false} if the time ran out
     * @throws IllegalStateException if the region is closed, also while waiting (a close ends every wait)
     * @param timeout the longest wait; zero or negative: no wait
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean tryLock(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        return acquire(nanos <= 0 ? 0 : System.nanoTime() + nanos);
    }

    /** @param deadline {@link System#nanoTime()} deadline, {@link Long#MAX_VALUE} for none */
    private boolean acquire(long deadline) throws InterruptedException {
        checkUsable();
        checkNotHeldByMe();
        boolean forever = deadline == Long.MAX_VALUE;
        if (!lockLocal(deadline)) {
            return false;
        }
        try {
            long park = 1_000;
            int spins = 0;
            while (true) {
                if (tryOs()) {
                    return true;
                }
                if (!forever && System.nanoTime() - deadline >= 0) {
                    local.unlock();
                    return false;
                }
                if (Thread.interrupted()) {
                    local.unlock();
                    throw new InterruptedException();
                }
                checkUsable();
                if (spins < SPINS) { // watch the holder word (no system call) and retry as soon as it clears
                    spins++;
                    for (int i = 0; i < 64 && header != null && header.getLongVolatile(LOCK_HOLDER_OFFSET) != 0; i++) {
                        Thread.onSpinWait();
                    }
                } else {
                    long pause = forever ? park : Math.min(park, Math.max(0, deadline - System.nanoTime()));
                    LockSupport.parkNanos(this, pause);
                    park = Math.min(park * 2, MAX_PARK_NANOS);
                }
            }
        } catch (RuntimeException | Error e) {
            if (owner != Thread.currentThread() && local.isHeldByCurrentThread()) {
                local.unlock();
            }
            if (e instanceof IllegalStateException && region.isClosed()) {
                region.checkOpen(); // closed while we waited: say so, not which descriptor went first
            }
            throw e;
        }
    }

    /**
     * Takes the in-process lock by the {@code deadline}, in slices, so that a close seen between two
     * slices ends the wait with {@link IllegalStateException}: a holder that never lets go (or a close
     * that took the lock from it) cannot keep a waiter here forever.
     */
    private boolean lockLocal(long deadline) throws InterruptedException {
        while (true) {
            long slice = deadline == Long.MAX_VALUE ? LOCAL_SLICE_NANOS : Math.min(LOCAL_SLICE_NANOS, Math.max(0, deadline - System.nanoTime()));
            if (local.tryLock(slice, TimeUnit.NANOSECONDS)) {
                if (region.isClosed()) {
                    local.unlock();
                    region.checkOpen();
                }
                return true;
            }
            region.checkOpen();
            if (deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0) {
                return false;
            }
        }
    }

    /**
     * Tries the OS lock; if had, records this thread and process as holder. Under {@link #state},
     * which {@link #abandon} takes too: a close either finds the holder recorded and clears it, or
     * this finds the region closed and lets the OS lock go without touching the header (which the
     * close unmaps next).
     */
    private boolean tryOs() {
        if (!platform.tryLockWriter(handle)) {
            return false;
        }
        dev.panmap.internal.TestPoints.hit("writerLock.afterOsLock");
        synchronized (state) {
            if (region.isClosed()) {
                try {
                    platform.unlockWriter(handle);
                } catch (IllegalStateException descriptorClosed) {
                    // the close has closed the descriptor already, and the kernel let the lock go with it
                }
                region.checkOpen();
            }
            owner = Thread.currentThread();
            if (header != null) {
                long previous = header.getLongVolatile(LOCK_HOLDER_OFFSET);
                // the OS lock is ours now, and a holder clears its record before it lets the lock go (release(),
                // abandon()): a record found here was left by a holder that died holding the lock. No pid is
                // compared, so this is right across pid namespaces.
                if (previous != 0) {
                    header.putLong(LOCK_LAST_STALE_START_OFFSET, header.getLong(LOCK_HOLDER_START_OFFSET));
                    header.putLongRelease(LOCK_LAST_STALE_OFFSET, previous);
                    header.getAndAddLong(LOCK_STALE_RECOVERIES_OFFSET, 1);
                    Events.staleLockRecovered(region.name(), ProcessStamp.pid(previous), header.getLong(LOCK_LAST_STALE_START_OFFSET));
                }
                header.putLong(LOCK_HOLDER_START_OFFSET, region.selfStartTime());
                header.putLongRelease(LOCK_HOLDER_OFFSET, ProcessStamp.of(region.selfPid(), region.selfStartTime()));
                header.getAndAddLong(LOCK_ACQUISITIONS_OFFSET, 1);
            }
        }
        return true;
    }

    /**
     * Releases the lock. If the region was closed while this thread held it, the close has let the
     * lock go already: this frees the thread's in-process hold and throws.
     *
     * @throws IllegalStateException if the current thread does not hold it (also on a second unlock),
     *         or the region was closed meanwhile
     */
    public void unlock() {
        if (!release()) {
            region.checkOpen(); // the only way to lose a held lock
            throw new IllegalStateException("the writer lock of " + region.name() + " was taken from this thread");
        }
    }

    /** {@link #unlock()} for panmap's own use of the lock (a grow): no exception if a close took it meanwhile. */
    void unlockAfterUse() {
        release();
    }

    /**
     * {@link SharedRegion#close()}: if a thread of this object holds the lock, clears the holder
     * record while the header is still mapped and forgets the owner. The OS lock itself goes when the
     * region's descriptor closes, after the mapping is gone, so that a thread still writing cannot
     * race with the next holder. The owning thread's later {@code unlock()} is then an
     * {@link IllegalStateException}, and frees its in-process hold; threads waiting for the lock end
     * with {@link IllegalStateException} too.
     */
    void abandon() {
        synchronized (state) {
            if (owner != null) {
                owner = null;
                if (header != null) {
                    header.putLongRelease(LOCK_HOLDER_OFFSET, 0);
                }
            }
        }
    }

    /**
     * Lets go: the holder record, the OS lock and the in-process hold, the last whatever happens.
     *
     * @return whether this thread still held the lock (false: a close took it)
     * @throws IllegalStateException if this thread does not hold the in-process lock
     */
    private boolean release() {
        if (!local.isHeldByCurrentThread()) {
            throw new IllegalStateException("the writer lock of " + region.name() + " is not held by this thread ("
                + Thread.currentThread().getName() + ")" + (owner == null ? ": it is not held in this process" : ""));
        }
        dev.panmap.internal.TestPoints.hit("writerLock.unlock");
        try {
            synchronized (state) {
                if (owner != Thread.currentThread()) {
                    return false;
                }
                owner = null;
                if (header != null) {
                    header.putLongRelease(LOCK_HOLDER_OFFSET, 0);
                }
                platform.unlockWriter(handle);
                return true;
            }
        } finally {
            local.unlock();
        }
    }

    /** {@return whether the calling thread holds the lock} */
    public boolean isHeldByCurrentThread() {
        return owner == Thread.currentThread();
    }

    /**
     * {@return whether anyone holds the lock now}: a thread of this region object, or another
     * descriptor anywhere (the system's lock; where the system keeps no liveness, a live recorded
     * holder). A read lock that a process with read access put on the lock byte counts: it keeps
     * writers out just the same.
     */
    boolean isHeldAnywhere() {
        if (owner != null) {
            return true;
        }
        if (platform.kernelLiveness(handle)) {
            return platform.lockedElsewhere(handle, WRITER_LOCK_BYTE);
        }
        return holder().map(ProcessInfo::alive).orElse(false);
    }

    /** {@return whether a thread of this region object holds the lock} */
    boolean isHeldHere() {
        return owner != null;
    }

    /**
     * {@return the recorded holder, if any}: its pid and start time, and whether it is alive (a dead
     * holder's record is stale; the OS has released its lock and the next holder clears the record)
     */
    public Optional<ProcessInfo> holder() {
        if (header == null) {
            return Optional.empty();
        }
        long stamp = header.getLongVolatile(LOCK_HOLDER_OFFSET);
        if (stamp == 0) {
            return Optional.empty();
        }
        long start = header.getLongAcquire(LOCK_HOLDER_START_OFFSET);
        if (!platform.kernelLiveness(handle)) {
            return Optional.of(ProcessStamp.info(platform, stamp, start));
        }
        // alive while the system lock is held: by a thread of ours, or by another descriptor anywhere
        boolean alive = owner != null || platform.lockedElsewhere(handle, WRITER_LOCK_BYTE);
        return Optional.of(ProcessStamp.info(stamp, start, alive));
    }

    /** {@return the last holder whose record a later holder found stale (it died holding the lock)} */
    public Optional<ProcessInfo> lastStaleHolder() {
        long stamp = header == null ? 0 : header.getLongVolatile(LOCK_LAST_STALE_OFFSET);
        if (stamp == 0) {
            return Optional.empty();
        }
        long start = header.getLongAcquire(LOCK_LAST_STALE_START_OFFSET);
        // where the system keeps liveness, a stale holder is one that died holding the lock
        return Optional.of(platform.kernelLiveness(handle) ? ProcessStamp.info(stamp, start, false) : ProcessStamp.info(platform, stamp, start));
    }

    /** {@return how many times the lock was taken, over the region's life} */
    public long acquisitions() {
        return header == null ? 0 : header.getLongAcquire(LOCK_ACQUISITIONS_OFFSET);
    }

    /** {@return how many times a holder found a dead holder's record, over the region's life} */
    public long staleRecoveries() {
        return header == null ? 0 : header.getLongAcquire(LOCK_STALE_RECOVERIES_OFFSET);
    }

    private void checkUsable() {
        region.checkOpen();
        if (!region.openMode().writable()) {
            throw new IllegalStateException("region " + region.name() + " was opened " + region.openMode()
                + ": only a writable region has a writer lock");
        }
    }

    private void checkNotHeldByMe() {
        if (owner == Thread.currentThread()) {
            throw new IllegalStateException("the writer lock of " + region.name() + " is already held by this thread (it is not reentrant)");
        }
    }
}
