package dev.panmap.ipc;

import dev.panmap.SharedRegion;
import dev.panmap.internal.Platform;
import dev.panmap.internal.ProcessStamp;
import dev.panmap.internal.RegionInternals;

/**
 * Who is alive in a ring, as the kernel keeps it: every place a process takes in a ring (a producer
 * entry, the consumer's place, the transmitter's) has a lock byte of the region object
 * ({@link RingLayout#lockByte}), locked while the place is held (POSIX: an OFD lock; Windows: the
 * byte locks of {@link Platform#tryLockByte}). The kernel lets it go when its holder dies, however it
 * dies, so zombies, reused pids and other pid namespaces are right by construction: no pid is judged.
 *
 * <p>The OS lock belongs to the region's handle, not to a thread, and a handle does not conflict with
 * itself; so this process keeps the bytes it holds through each handle in a list beside it, taken
 * before the OS lock and dropped after it: two producers of one handle never share an entry, and the
 * consumer sees a producer of its own handle alive.
 */
final class Liveness {
    /**
     * Bytes held through some handle of this process (the handle compared by identity): an array
     * replaced whole under {@link #LOCK} when a place is taken or let go (rare), read without a lock
     * and without allocating by {@link #alive}, which a consumer calls while it waits for a claim.
     */
    private static volatile Held[] held = new Held[0];
    private static final Object LOCK = new Object();

    private record Held(Object handle, long offset) {}

    private static boolean heldHere(Object handle, long offset) {
        for (Held x : held) {
            if (x.handle == handle && x.offset == offset) {
                return true;
            }
        }
        return false;
    }

    /** {@return false if this process holds the byte through {@code handle} already} */
    private static boolean add(Object handle, long offset) {
        synchronized (LOCK) {
            if (heldHere(handle, offset)) {
                return false;
            }
            Held[] next = java.util.Arrays.copyOf(held, held.length + 1);
            next[held.length] = new Held(handle, offset);
            held = next;
            return true;
        }
    }

    private static void remove(Object handle, long offset) {
        synchronized (LOCK) {
            Held[] now = held;
            for (int i = 0; i < now.length; i++) {
                if (now[i].handle == handle && now[i].offset == offset) {
                    Held[] next = new Held[now.length - 1];
                    System.arraycopy(now, 0, next, 0, i);
                    System.arraycopy(now, i + 1, next, i, now.length - i - 1);
                    held = next;
                    return;
                }
            }
        }
    }

    private final Platform platform;
    private final SharedRegion region;
    /** The region's handle, kept for the set's key after the region closes. */
    private final Platform.Handle handle;

    Liveness(SharedRegion region, Platform platform) {
        this.region = region;
        this.platform = platform;
        this.handle = RegionInternals.handle(region);
    }

    /** {@return the region's handle}, refused (as every use of a closed region) once it is closed */
    private Platform.Handle handle() {
        return RegionInternals.handle(region);
    }

    /** Takes the lock byte at {@code offset}. {@return false if a live holder (in this process or another) has it} */
    boolean take(long offset) {
        Platform.Handle h = handle();
        if (!add(h, offset)) {
            return false;
        }
        boolean got = false;
        try {
            got = platform.tryLockByte(h, offset);
            return got;
        } finally {
            if (!got) {
                remove(h, offset);
            }
        }
    }

    /**
     * Lets the lock byte at {@code offset} go (after the place's stamp was cleared). On a region closed
     * already there is nothing to let go (the lock went with its descriptor): only this process's
     * record of it is dropped, so that a producer or consumer closed after its region closes quietly.
     */
    void release(long offset) {
        try {
            if (!region.isClosed()) {
                platform.unlockByte(handle(), offset);
            }
        } finally {
            remove(handle, offset);
        }
    }

    /** {@return whether a live holder has the lock byte at {@code offset}: this process through this handle, or another handle anywhere} */
    boolean alive(long offset) {
        Platform.Handle h = handle();
        return heldHere(h, offset) || platform.lockedElsewhere(h, offset);
    }

    /** {@return this process's stamp: for tools only, never judged} */
    static long self(Platform platform) {
        int pid = platform.currentPid();
        return ProcessStamp.of(pid, platform.processStartTime(pid));
    }
}
