package dev.panmap.testing;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.internal.TestPoints;
import java.util.concurrent.locks.LockSupport;

/**
 * A process of {@code GrowthPublicationTest}. Modes (arguments after the mode: the region name, then):
 * <pre>
 * grow NAME COUNT PAUSE_MS      grows one page at a time, COUNT times; with test points on, pauses
 *                               PAUSE_MS between the size and the generation store of each grow. COUNT 0:
 *                               after stdin says "go", one page about every 200 us until it says "stop"
 *                               or the span is full. Prints GREW gen=G size=N when done
 * follow NAME                   calls segment() in a loop until stdin has a line; then prints
 *                               FINAL gen=G size=N looks=L (segment().byteSize() as it stands)
 * attach NAME INITIAL           opens and closes in a loop until stdin says "stop"; an attach is stale if
 *                               its size is below what its generation implies (INITIAL data bytes + one
 *                               page per generation after the first); prints
 *                               ATTACHES n=N stale=S worst=P generations=G (G: how many it saw)
 * </pre>
 */
public final class GrowthChild {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String name = args[1];
        RegionOptions options = RegionOptions.defaults().allowOffsetFallback(true);
        switch (mode) {
            case "grow" -> {
                int count = Integer.parseInt(args[2]);
                long pauseMillis = Long.parseLong(args[3]);
                if (pauseMillis > 0) {
                    TestPoints.install(point -> {
                        if (point.equals("grow.betweenStores")) {
                            LockSupport.parkNanos(pauseMillis * 1_000_000);
                        }
                    });
                }
                try (SharedRegion r = SharedRegion.open(name, OpenMode.OPEN_ONLY, options)) {
                    long page = 4096;
                    java.util.concurrent.atomic.AtomicBoolean stop = stopOnStdin(count == 0);
                    System.out.println("READY");
                    while (count == 0 && !GO) {
                        LockSupport.parkNanos(1_000_000);
                    }
                    for (int i = 0; (count == 0 || i < count) && !stop.get(); i++) {
                        if (r.size() + page > r.reservedSpan() - r.dataOffset()) {
                            while (!stop.get()) {
                                LockSupport.parkNanos(1_000_000);
                            }
                            break;
                        }
                        r.grow(r.size() + page);
                        if (count == 0) {
                            LockSupport.parkNanos(200_000);
                        }
                    }
                    System.out.println("GREW gen=" + r.generation() + " size=" + r.size());
                }
            }
            case "follow" -> {
                try (SharedRegion r = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, options)) {
                    Thread looker = new Thread(() -> {
                        long looks = 0;
                        while (!Thread.currentThread().isInterrupted()) {
                            r.segment();
                            looks++;
                            Thread.onSpinWait();
                        }
                        LOOKS = looks;
                    });
                    looker.start();
                    System.out.println("READY");
                    new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine(); // "stop"
                    looker.interrupt();
                    looker.join();
                    // segment() first: it refreshes, and generation() only says what the last refresh took (read
                    // first, it gave gen=25 with the final size when the looker's last look fell in the grower's
                    // pause between its size and generation stores)
                    long size = r.segment().byteSize();
                    System.out.println("FINAL gen=" + r.generation() + " size=" + size + " looks=" + LOOKS);
                }
            }
            case "attach" -> {
                long initial = Long.parseLong(args[2]);
                long page = 4096;
                java.util.concurrent.atomic.AtomicBoolean stop = stopOnStdin(true);
                int n = 0;
                int stale = 0;
                long worst = 0;
                java.util.Set<Long> generations = new java.util.HashSet<>();
                System.out.println("READY");
                while (!stop.get()) {
                    try (SharedRegion r = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, options)) {
                        long implied = initial + (r.generation() - 1) * page;
                        long size = r.size(); // what this attach mapped; segment() would catch up, size() does not look
                        n++;
                        generations.add(r.generation());
                        if (size < implied) {
                            stale++;
                            worst = Math.max(worst, (implied - size) / page);
                        }
                    }
                }
                System.out.println("ATTACHES n=" + n + " stale=" + stale + " worst=" + worst + " generations=" + generations.size());
            }
            default -> throw new IllegalArgumentException(mode);
        }
    }

    private static volatile long LOOKS;
    private static volatile boolean GO;

    /** {@return a flag set when stdin says "stop" (or ends), if {@code watch}} */
    private static java.util.concurrent.atomic.AtomicBoolean stopOnStdin(boolean watch) {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        if (watch) {
            Thread t = new Thread(() -> {
                try {
                    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
                    for (String line; (line = in.readLine()) != null && !line.equals("stop"); ) {
                        GO |= line.equals("go");
                    }
                } catch (java.io.IOException ignored) {
                    // stdin closed: stop too
                }
                stop.set(true);
            });
            t.setDaemon(true);
            t.start();
        }
        return stop;
    }
}
