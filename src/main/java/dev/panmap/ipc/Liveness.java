package dev.panmap.ipc;

import dev.panmap.internal.Platform;
import dev.panmap.internal.ProcessStamp;

/**
 * Whether the process a {@link ProcessStamp} names is alive: the one question the rings ask before
 * they take a claim from a producer or the consumer's place from a consumer. Kept behind this
 * interface so that how liveness is decided (today pid and start time, see {@link ProcessStamp#alive})
 * can change under it.
 */
@FunctionalInterface
interface Liveness {
    boolean alive(long stamp);

    static Liveness of(Platform platform) {
        return stamp -> ProcessStamp.alive(platform, stamp);
    }

    /** {@return this process's stamp} */
    static long self(Platform platform) {
        int pid = platform.currentPid();
        return ProcessStamp.of(pid, platform.processStartTime(pid));
    }
}
