package dev.panmap.ipc;

import dev.panmap.SharedRegion;
import dev.panmap.internal.Platform;
import dev.panmap.internal.ProcessStamp;
import dev.panmap.internal.RegionInternals;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is alive in a ring, as the kernel keeps it: every place a process takes in a ring (a producer
 * entry, the consumer's place, the transmitter's) has a lock byte of the region object
 * ({@link RingLayout#lockByte}), locked while the place is held (POSIX: an OFD lock; Windows: the
 * byte locks of {@link Platform#tryLockByte}). The kernel lets it go when its holder dies, however it
 * dies, so zombies, reused pids and other pid namespaces are right by construction: no pid is judged.
 *
 * <p>The OS lock belongs to the region's handle, not to a thread, and a handle does not conflict with
 * itself; so this process keeps the bytes it holds through each handle in a set beside it, taken
 * before the OS lock and dropped after it: two producers of one handle never share an entry, and the
 * consumer sees a producer of its own handle alive.
 */
final class Liveness {
    /** Bytes held through some handle of this process, keyed by the handle's identity. */
    private static final Set<Held> HELD = ConcurrentHashMap.newKeySet();

    private record Held(Object handle, long offset) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Held h && h.handle == handle && h.offset == offset;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(handle) * 31 + Long.hashCode(offset);
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
        Held key = new Held(h, offset);
        if (!HELD.add(key)) {
            return false;
        }
        boolean got = false;
        try {
            got = platform.tryLockByte(h, offset);
            return got;
        } finally {
            if (!got) {
                HELD.remove(key);
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
            HELD.remove(new Held(handle, offset));
        }
    }

    /** {@return whether a live holder has the lock byte at {@code offset}: this process through this handle, or another handle anywhere} */
    boolean alive(long offset) {
        Platform.Handle h = handle();
        return HELD.contains(new Held(h, offset)) || platform.lockedElsewhere(h, offset);
    }

    /** {@return this process's stamp: for tools only, never judged} */
    static long self(Platform platform) {
        int pid = platform.currentPid();
        return ProcessStamp.of(pid, platform.processStartTime(pid));
    }
}
