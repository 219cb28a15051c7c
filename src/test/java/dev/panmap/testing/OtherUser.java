package dev.panmap.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

/**
 * A child JVM that runs as another, unprivileged user: {@code nobody} (uid and gid 65534, which
 * Debian always has), started by {@code setpriv --reuid --regid --clear-groups}. Needs root; the test
 * is skipped otherwise, and when {@code setpriv} is missing. The child cannot read the build tree, so
 * the main and test classes are copied under {@code dir} (made world-readable) first.
 */
public final class OtherUser {
    private OtherUser() {}

    /** The other user's uid and gid. */
    public static final int UID = 65534;

    /** Skips the test unless this process can start a child as {@link #UID}. */
    public static void assumeAvailable() {
        assumeTrue("root".equals(System.getProperty("user.name")), "runs only as root (to start a child as uid " + UID + "); this is "
            + System.getProperty("user.name"));
        Requirement.command("setpriv", "util-linux", "to start a child as another user");
    }

    /** Starts {@code main} as uid {@link #UID}, with the classes copied under {@code dir}. */
    public static ChildJvm start(Path dir, Class<?> main, String... args) throws IOException {
        assumeAvailable();
        Path setpriv = Requirement.command("setpriv", "util-linux", "to start a child as another user");
        return ChildJvm.launchWith(List.of(setpriv.toString(), "--reuid=" + UID, "--regid=" + UID, "--clear-groups"),
            worldReadableClassPath(dir), main, args);
    }

    /** {@return a class path of the main and test classes copied under {@code dir}, which every user can read} */
    public static String worldReadableClassPath(Path dir) throws IOException {
        Path cp = dir.resolve("cp");
        if (!Files.isDirectory(cp)) {
            for (String tree : List.of("classes", "test-classes")) {
                Path from = Path.of("target", tree).toAbsolutePath();
                try (Stream<Path> all = Files.walk(from)) {
                    for (Path p : all.toList()) {
                        Path to = cp.resolve(tree).resolve(from.relativize(p).toString());
                        if (Files.isDirectory(p)) {
                            Files.createDirectories(to);
                        } else {
                            Files.copy(p, to);
                        }
                    }
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (Stream<Path> all = Files.walk(cp)) {
                for (Path p : all.toList()) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
        return cp.resolve("classes") + ":" + cp.resolve("test-classes");
    }
}
