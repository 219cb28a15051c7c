package dev.panmap.structures;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.testing.Names;

/** A named shm region for one test, removed on close. */
record Regions(SharedRegion region, String name) implements AutoCloseable {
    static Regions create(Addressing addressing, long size) {
        String name = Names.unique("structures");
        return new Regions(SharedRegion.create(name, RegionOptions.defaults().size(size).addressing(addressing)), name);
    }

    RegionHeap heap() {
        return RegionHeap.create(region, 0, region.size());
    }

    /** The same region mapped a second time in this process: a DIRECT one lands away from its base (offset fallback). */
    SharedRegion openAgain() {
        return SharedRegion.open(name, dev.panmap.OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true));
    }

    @Override
    public void close() {
        region.close();
        SharedRegion.remove(name);
    }
}
