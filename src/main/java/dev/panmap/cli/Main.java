package dev.panmap.cli;

import dev.panmap.internal.Platform;

/** Entry point of {@code target/panmap.jar} and the {@code panmap} launcher. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        String version = Main.class.getPackage().getImplementationVersion();
        System.out.println("panmap " + (version == null ? "(development build)" : version)
            + " on Java " + Runtime.version());
        try {
            System.out.println("platform: " + Platform.current().name());
        } catch (UnsupportedOperationException | IllegalStateException e) {
            System.err.println("panmap: " + e.getMessage());
            System.exit(1);
        }
    }
}
