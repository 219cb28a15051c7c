package dev.panmap.internal.windows;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import java.lang.foreign.ValueLayout;
import java.util.Scanner;

/**
 * The second process of {@link WindowsSystemTest}: {@code attach NAME} opens the region, prints its
 * base and the first data word, writes a reply word and waits for a line; {@code lock NAME} takes the
 * writer lock, prints {@code locked} and waits to be killed.
 */
public final class WindowsChild {
    private WindowsChild() {}

    public static void main(String[] args) {
        String command = args[0];
        String name = args[1];
        try (SharedRegion region = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            long data = region.dataOffset();
            switch (command) {
                case "attach" -> {
                    System.out.println("base 0x" + Long.toHexString(region.segment().address()) + " value "
                        + region.segment().get(ValueLayout.JAVA_LONG, data));
                    region.segment().set(ValueLayout.JAVA_LONG, data + 8, 0xBEEFL);
                    System.out.println("replied");
                }
                case "lock" -> {
                    region.writerLock().lock();
                    System.out.println("locked");
                }
                default -> throw new IllegalArgumentException(command);
            }
            new Scanner(System.in).nextLine(); // until the test says so, or kills us
        }
    }
}
