package dev.panmap.internal;

import dev.panmap.SharedRegion;

/**
 * What the library's other packages ({@code dev.panmap.ipc}) may reach inside a {@link SharedRegion}
 * without it being public API: its platform handle (the rings' lock bytes live on it). Installed by
 * {@code SharedRegion}'s class initialiser, which runs before any region exists.
 */
public final class RegionInternals {
    private RegionInternals() {}

    /** The bridge {@code SharedRegion} installs. */
    public interface Bridge {
        Platform.Handle handle(SharedRegion region);
    }

    private static volatile Bridge bridge;

    /** Installs the bridge, once. */
    public static void install(Bridge b) {
        if (bridge != null) {
            throw new IllegalStateException("the region bridge is installed already");
        }
        bridge = b;
    }

    /** {@return the platform handle of an open region} (its close makes later uses fail as on a closed region) */
    public static Platform.Handle handle(SharedRegion region) {
        return bridge.handle(region);
    }
}
