package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;

import java.util.StringJoiner;

/** Writes flag arguments the way they appear in C, for error messages: {@code O_RDWR|O_CREAT}. */
final class Flags {
    private Flags() {}

    private record Bit(int value, String name) {}

    private static final Bit[] OPEN = {
        new Bit(O_CREAT(), "O_CREAT"), new Bit(O_EXCL(), "O_EXCL"), new Bit(O_TRUNC(), "O_TRUNC"),
        new Bit(LinuxAbi.current().oNoFollow(), "O_NOFOLLOW"), new Bit(O_NONBLOCK(), "O_NONBLOCK"),
        new Bit(O_NOCTTY(), "O_NOCTTY"), new Bit(LinuxAbi.current().oDirectory(), "O_DIRECTORY"), new Bit(O_CLOEXEC(), "O_CLOEXEC"),
    };
    private static final Bit[] PROT = {new Bit(PROT_READ(), "PROT_READ"), new Bit(PROT_WRITE(), "PROT_WRITE")};
    private static final Bit[] MAP = {
        new Bit(MAP_SHARED(), "MAP_SHARED"), new Bit(MAP_PRIVATE(), "MAP_PRIVATE"),
        new Bit(MAP_FIXED(), "MAP_FIXED"), new Bit(MAP_FIXED_NOREPLACE(), "MAP_FIXED_NOREPLACE"),
        new Bit(MAP_ANONYMOUS(), "MAP_ANONYMOUS"), new Bit(MAP_POPULATE(), "MAP_POPULATE"),
        new Bit(MAP_NORESERVE(), "MAP_NORESERVE"),
    };
    private static final Bit[] MSYNC = {
        new Bit(MS_ASYNC(), "MS_ASYNC"), new Bit(MS_SYNC(), "MS_SYNC"), new Bit(MS_INVALIDATE(), "MS_INVALIDATE"),
    };

    static String open(int flags) {
        int access = flags & (O_RDONLY() | O_WRONLY() | O_RDWR());
        String first = access == O_RDWR() ? "O_RDWR" : access == O_WRONLY() ? "O_WRONLY" : "O_RDONLY";
        return bits(flags & ~access, OPEN, first);
    }

    static String prot(int prot) {
        return prot == PROT_NONE() ? "PROT_NONE" : bits(prot, PROT, null);
    }

    static String map(int flags) {
        return bits(flags, MAP, null);
    }

    static String msync(int flags) {
        return bits(flags, MSYNC, null);
    }

    static String mode(int mode) {
        return String.format("0%03o", mode);
    }

    /** {@return the major number of a {@code st_dev} (glibc's {@code gnu_dev_major})} */
    static long major(long device) {
        return ((device >>> 8) & 0xfff) | ((device >>> 32) & ~0xfffL);
    }

    /** {@return the minor number of a {@code st_dev} (glibc's {@code gnu_dev_minor})} */
    static long minor(long device) {
        return (device & 0xff) | ((device >>> 12) & ~0xffL);
    }

    /** {@return a {@code st_dev} as the kernel prints it in /proc (locks, fdinfo): {@code fe:00}} */
    static String deviceText(long device) {
        return String.format("%02x:%02x", major(device), minor(device));
    }

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    static String string(String s) {
        return '"' + s + '"';
    }

    private static String bits(int flags, Bit[] table, String first) {
        StringJoiner out = new StringJoiner("|");
        if (first != null) {
            out.add(first);
        }
        int rest = flags;
        for (Bit bit : table) {
            if (bit.value != 0 && (rest & bit.value) == bit.value) {
                out.add(bit.name);
                rest &= ~bit.value;
            }
        }
        if (rest != 0 || out.length() == 0) {
            out.add("0x" + Integer.toHexString(rest));
        }
        return out.toString();
    }
}
