package dev.panmap.internal;

import dev.panmap.internal.posix.PosixPlatform;
import dev.panmap.internal.windows.WindowsPlatform;
import java.util.Locale;

/**
 * Chooses this machine's {@link Platform}, once: the one place that names the backends, so that the
 * interface does not know its implementations. Linux x86_64 and aarch64 get the POSIX backend, Windows x64
 * the Windows one; anything else is refused with one line.
 */
public final class Platforms {
    private Platforms() {}

    /**
     * {@return the platform of this machine}
     * @throws UnsupportedOperationException on an operating system or architecture panmap does not
     *         support yet, or {@link IllegalStateException} when native access is not enabled; both
     *         with one line that says what to do
     */
    public static Platform current() {
        String reason = unsupportedReason();
        if (reason != null) {
            throw new UnsupportedOperationException(reason);
        }
        NativeAccess.check();
        return Holder.PLATFORM;
    }

    /** {@return whether this machine is supported} Loads nothing native. */
    public static boolean isSupported() {
        return unsupportedReason() == null;
    }

    /** {@return why this machine is not supported, or null if it is} */
    public static String unsupportedReason() {
        return unsupportedReason(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    /** {@return why this {@code os.name} and {@code os.arch} are not supported, or null if they are} */
    public static String unsupportedReason(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
        if (os.startsWith("linux") && linuxArch(arch) || os.startsWith("windows") && x64) {
            return null;
        }
        return "panmap supports Linux x86_64, Linux aarch64 and Windows x64 (this is " + osName + " " + osArch
            + "); other systems and architectures are planned";
    }

    /**
     * Whether panmap has Linux bindings for {@code arch}, by name only: the same names as
     * {@code LinuxAbi.forArch} (PlatformSelectionTest checks that they agree), but deciding must not load
     * the bindings: a generated class's initialisation calls restricted methods, after which the JDK
     * counts native access as enabled and {@link NativeAccess#check()} could no longer refuse.
     */
    private static boolean linuxArch(String arch) {
        return switch (arch) {
            case "amd64", "x86_64", "aarch64" -> true;
            default -> false;
        };
    }

    /** The backend, made on first use (the class is initialized only then). */
    private static final class Holder {
        private Holder() {}

        static final Platform PLATFORM = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")
            ? WindowsPlatform.system() : new PosixPlatform();
    }
}
