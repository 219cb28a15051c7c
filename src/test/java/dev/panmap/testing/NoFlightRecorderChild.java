package dev.panmap.testing;

import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;

/**
 * Runs the paths that emit Flight Recorder events (a refused open, a grow) in a JVM whose module
 * graph has no {@code jdk.jfr}, panmap on the module path: prints {@code OK} if they work without it.
 * Arguments: a unique region name.
 */
public final class NoFlightRecorderChild {
    private NoFlightRecorderChild() {}

    public static void main(String[] args) {
        String name = args[0];
        System.out.println("jdk.jfr " + (ModuleLayer.boot().findModule("jdk.jfr").isPresent() ? "present" : "absent")
            + "; panmap in " + SharedRegion.class.getModule());
        try {
            SharedRegion.open(name).close();
            System.out.println("FAILED: opened a region that does not exist");
            return;
        } catch (RegionException expected) {
            System.out.println("refused: " + expected.kind());
        }
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(4096).maxSize(1 << 16))) {
            r.grow(1 << 16);
            System.out.println("grown to " + r.size());
        } finally {
            SharedRegion.remove(name);
        }
        System.out.println("OK");
    }
}
