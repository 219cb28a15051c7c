package dev.panmap;

import dev.panmap.testing.Kernel32Emulation;
import java.util.Scanner;

/**
 * The second process of {@link EmulatedWindowsRegionTest}, on the Windows backend over the kernel32
 * emulation: {@code lock NAME} opens the region, takes its writer lock, prints {@code locked} and
 * waits to be killed; {@code read NAME} prints the first data word and its base.
 */
public final class EmulatedWindowsChild {
    private EmulatedWindowsChild() {}

    public static void main(String[] args) {
        var platform = Kernel32Emulation.platform();
        try (SharedRegion region = SharedRegion.open(platform, args[1], OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true))) {
            switch (args[0]) {
                case "lock" -> {
                    region.writerLock().lock();
                    System.out.println("locked");
                }
                case "read" -> System.out.println("value " + region.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG, region.dataOffset())
                    + " base 0x" + Long.toHexString(region.segment().address()));
                default -> throw new IllegalArgumentException(args[0]);
            }
            new Scanner(System.in).nextLine();
        }
    }
}
