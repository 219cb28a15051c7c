package dev.panmap.internal;

/**
 * The JDK lets code call native functions only where native access is enabled; without it the JDK
 * prints warnings (and, with {@code --illegal-native-access=deny}, fails deep inside a downcall).
 * panmap checks once, before any native call, and fails with one line that names the flag.
 */
public final class NativeAccess {
    private NativeAccess() {}

    /** {@return the flag that enables native access for panmap's module (named or unnamed)} */
    public static String flag() {
        Module module = NativeAccess.class.getModule();
        return "--enable-native-access=" + (module.isNamed() ? module.getName() : "ALL-UNNAMED");
    }

    /** @throws IllegalStateException if native access is not enabled for panmap */
    public static void check() {
        if (!NativeAccess.class.getModule().isNativeAccessEnabled()) {
            throw new IllegalStateException("panmap needs native access: add " + flag()
                + " to the java command (or 'Enable-Native-Access: ALL-UNNAMED' to an executable jar's manifest)");
        }
    }
}
