package dev.panmap.bench.probe;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code Arena.ofShared()} + a segment + {@code close()} in a loop, with no other Java thread
 * running and then with one spinning thread (which the close's handshake must wait for), twice
 * each: the cost of a shared arena's close apart from panmap (jmh/results/attach.md).
 */
public final class ArenaClose {
    private ArenaClose() {}

    static volatile boolean stop;
    public static void main(String[] a) throws Exception {
        MemorySegment m = Arena.global().allocate(1 << 20);
        for (String mode : new String[] {"alone", "spinner", "alone", "spinner"}) {
            Thread spinner = null;
            stop = false;
            if (mode.equals("spinner")) { spinner = new Thread(() -> { long x = 0; while (!stop) { x++; Thread.onSpinWait(); } }); spinner.setDaemon(true); spinner.start(); Thread.sleep(200); }
            int n = 20000; long[] t = new long[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                Arena ar = Arena.ofShared();
                MemorySegment s = MemorySegment.ofAddress(m.address()).reinterpret(1 << 20, ar, null);
                s.get(ValueLayout.JAVA_BYTE, 0);
                ar.close();
                t[i] = System.nanoTime() - t0;
            }
            stop = true; if (spinner != null) spinner.join();
            java.util.Arrays.sort(t);
            System.out.printf("%-8s median %.1f us p10 %.1f p90 %.1f%n", mode, t[n/2]/1e3, t[n/10]/1e3, t[n*9/10]/1e3);
        }
    }
}
