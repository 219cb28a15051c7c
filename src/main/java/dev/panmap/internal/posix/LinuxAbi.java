package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.S_IFMT;
import static dev.panmap.internal.generated.linux.Libc.S_IFREG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * What differs between the Linux architectures panmap runs on, each read from its own jextract
 * package: {@code dev.panmap.internal.generated.linux} (x86_64) and
 * {@code dev.panmap.internal.generated.linux_aarch64}. Everything else generated from
 * {@code panmap_linux.h} (function descriptors, the other constants and structs) is byte for byte the
 * same in both (native-headers/linux/PROVENANCE.md lists the differences), so the rest of the POSIX
 * code uses the x86_64 package for it; {@code LinuxAbiTest} fails if a constant or struct that differs
 * is not carried here.
 *
 * <p>The one implementation in use is {@link #CURRENT}, chosen by {@code os.arch}.
 */
sealed interface LinuxAbi permits X86_64Abi, Aarch64Abi {

    /** The architecture of this JVM; null on one panmap has no Linux bindings for. */
    LinuxAbi CURRENT = forArch(System.getProperty("os.arch", ""));

    /**
     * {@return {@link #CURRENT}}
     * @throws UnsupportedOperationException on an architecture panmap has no Linux bindings for
     */
    static LinuxAbi current() {
        if (CURRENT == null) {
            throw new UnsupportedOperationException("panmap has Linux bindings for x86_64 and aarch64 only (os.arch is "
                + System.getProperty("os.arch") + ")");
        }
        return CURRENT;
    }

    /**
     * {@return the bindings for a value of {@code os.arch} ({@code amd64} or {@code x86_64}; {@code aarch64}),
     * or null for any other}
     */
    static LinuxAbi forArch(String osArch) {
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> X86_64Abi.INSTANCE;
            case "aarch64" -> Aarch64Abi.INSTANCE;
            default -> null;
        };
    }

    /** {@return the architecture's Linux name, e.g. {@code aarch64}} */
    String arch();

    /** {@return {@code struct stat}'s layout} */
    MemoryLayout statLayout();

    /** {@return the fields panmap uses of a {@code struct stat} filled by {@code fstat}} */
    Posix.FileStatus fileStatus(MemorySegment stat);

    /** {@return {@code O_DIRECTORY}} */
    int oDirectory();

    /** {@return {@code O_NOFOLLOW}} */
    int oNoFollow();

    /** {@return {@code SYS_futex}, the syscall number of {@code futex(2)}} */
    int sysFutex();

    /** {@return a {@link Posix.FileStatus} from {@code struct stat}'s fields} ({@code S_IFMT} and {@code S_IFREG} are the same on both) */
    static Posix.FileStatus status(long size, int mode, int uid, int gid, long device, long inode, long links) {
        return new Posix.FileStatus(size, mode, uid, gid, (mode & S_IFMT()) == S_IFREG(), device, inode, links);
    }
}
