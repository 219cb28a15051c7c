package dev.panmap.bench.probe;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;

/**
 * Attach + close of an existing 1 MiB region in a loop, read-only: the default (an arena shared by
 * a batch of regions), {@code own} ({@code RegionOptions.ownArena}: a shared arena per region, a
 * handshake per close) or {@code confined} as the second argument: four passes, each with its median
 * and p90. Run it with {@code -Xlog:handshake=info:file=hs.log} to see what HotSpot says each close's
 * handshake cost (jmh/results/attach.md, "Where the default close's time goes").
 */
public final class AttachLoop {
    private AttachLoop() {}

    public static void main(String[] a) throws Exception {
        String name = "/attloop-" + ProcessHandle.current().pid();
        String mode = a.length > 1 ? a[1] : "default";
        int n = Integer.parseInt(a[0]);
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20))) {
            RegionOptions o = RegionOptions.defaults().confinedToThread(mode.equals("confined")).ownArena(mode.equals("own"));
            for (int pass = 0; pass < 4; pass++) {
                long[] t = new long[n];
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    try (SharedRegion s = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, o)) { s.segment(); }
                    t[i] = System.nanoTime() - t0;
                }
                java.util.Arrays.sort(t);
                System.out.printf("pass %d: median %.1f us p90 %.1f us threads %d%n", pass, t[n / 2] / 1e3, t[n * 9 / 10] / 1e3, Thread.activeCount());
            }
        } finally { SharedRegion.remove(name); }
    }
}
