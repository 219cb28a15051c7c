package dev.panmap.internal.windows;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.testing.Kernel32Emulation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Scanner;

/**
 * The second process of {@link WindowsSystemTest} and {@link WindowsBackendTest}, on the real Windows
 * backend, or on Linux over the kernel32 emulation its parent built:
 * <ul>
 *   <li>{@code attach NAME}: opens the region, prints its base and the first data word, writes a reply
 *       word, and waits for a line;</li>
 *   <li>{@code lock NAME}: takes the writer lock, prints {@code locked} and waits to be killed;</li>
 *   <li>{@code slot NAME OFFSET}: opens the section, takes the byte lock at OFFSET, prints
 *       {@code holding} and waits to be killed;</li>
 *   <li>{@code wait NAME OFFSET}: opens and maps the section, prints {@code waiting}, sleeps on the word
 *       at OFFSET while it is 0, prints {@code woken <value>} and exits.</li>
 * </ul>
 */
public final class WindowsChild {
    private WindowsChild() {}

    private static WindowsPlatform platform() {
        return System.getProperty(Kernel32Emulation.LIBRARY_PROPERTY) != null ? Kernel32Emulation.platform() : (WindowsPlatform) Platforms.current();
    }

    public static void main(String[] args) {
        String command = args[0];
        String name = args[1];
        switch (command) {
            case "slot" -> {
                WindowsPlatform platform = platform();
                Platform.Handle h = platform.open(Platform.Target.shm(name), true);
                if (!platform.tryLockByte(h, Long.parseLong(args[2]))) {
                    throw new IllegalStateException("the byte lock is taken");
                }
                System.out.println("holding");
                new Scanner(System.in).nextLine();
                return;
            }
            case "wait" -> {
                WindowsPlatform platform = platform();
                Platform.Handle h = platform.open(Platform.Target.shm(name), true);
                long size = platform.status(h).size();
                long at = platform.map(h, size, Platform.Access.READ_WRITE, 0, false);
                MemorySegment word = MemorySegment.ofAddress(at + Long.parseLong(args[2])).reinterpret(4);
                System.out.println("waiting");
                while (word.get(ValueLayout.JAVA_INT, 0) == 0) {
                    platform.waitOnAddress(word, 0, -1);
                }
                System.out.println("woken " + word.get(ValueLayout.JAVA_INT, 0));
                platform.unmap(at, size);
                platform.close(h);
                return;
            }
            default -> { }
        }
        // attach and lock: the public API, so on Windows only (WindowsSystemTest)
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
