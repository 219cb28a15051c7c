package dev.panmap.cli;

import static dev.panmap.cli.CliTest.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.SharedRegion;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A region is created owner-only by default: another user cannot open it, not even to look. Run as
 * root, the test runs the command line as {@code nobody} through {@code setpriv}; otherwise it is
 * skipped, with the reason.
 */
@LinuxOnly
class PermissionTest {
    private static final String NOBODY = "65534";

    @RegisterExtension
    final RegionNames names = new RegionNames();

    @TempDir
    Path dir;

    private String classPath;

    @BeforeEach
    void canRunAsNobody() throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "runs only as root (to switch to nobody); this is "
            + System.getProperty("user.name"));
        Path setpriv = Stream.of("/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv").map(Path::of)
            .filter(Files::isExecutable).findFirst().orElse(null);
        assumeTrue(setpriv != null, "setpriv (util-linux) is not installed");
        assumeTrue(readableByAll(ChildJvm.javaBinary()), "nobody cannot run " + ChildJvm.javaBinary());
        classPath = worldReadableClassPath();
    }

    private Cli.Result asNobody(String... args) {
        return Cli.run(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"), classPath, dir, args);
    }

    @Test
    void anotherUserCannotOpenARegionCreatedWithTheDefaultMode() {
        String name = names.next("perm");
        ok("create", name, "--size", "4K");

        Cli.Result r = asNobody("inspect", name);
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderrLines()).as(r.toString()).containsExactly(
            "PERMISSION_DENIED: shm_open(\"" + name + "\", O_RDONLY|O_NONBLOCK|O_CLOEXEC, 0000) failed: EACCES (Permission denied)");
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void withAModeForOthersTheyCanLookButNotWrite() {
        String name = names.next("perm-open");
        ok("create", name, "--size", "4K", "--mode", "0644");

        Cli.Result look = asNobody("inspect", name, "--json");
        assertThat(look.exit()).as("the control: nobody can run the CLI at all; " + look).isZero();
        assertThat(JsonParser.parseObject(look.stdout().strip())).containsEntry("name", name).containsEntry("mode", "0644");

        Cli.Result write = asNobody("put", name, "x");
        assertThat(write.exit()).as(write.toString()).isEqualTo(1);
        assertThat(write.stderrLines()).as(write.toString()).containsExactly(
            "PERMISSION_DENIED: shm_open(\"" + name + "\", O_RDWR|O_NONBLOCK|O_CLOEXEC, 0000) failed: EACCES (Permission denied)");
    }

    /** Issue 20: inspect shows whose region it is; --trust-owner narrows whose regions a command opens. */
    @Test
    void inspectShowsTheOwnerAndTrustOwnerRefusesAnyOther() {
        String name = names.next("perm-trust");
        ok("create", name, "--size", "4K", "--mode", "0644");

        Cli.Result look = asNobody("inspect", name);
        assertThat(look.exit()).as(look.toString()).isZero();
        assertThat(look.stdoutLines()).as(look.toString()).anyMatch(l -> l.startsWith("region") && l.contains("owner root (uid 0)"));

        Cli.Result refused = asNobody("inspect", name, "--trust-owner", "4242,4343");
        assertThat(refused.exit()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.stderrLines()).as(refused.toString()).singleElement().asString()
            .startsWith("PERMISSION_DENIED: " + name + " exists, owned by uid 0 with mode 0644; expected an object of this process's uid 65534"
                + " or of a trusted owner (trusted owners: uid 4242, 4343)");

        Cli.Result trusted = asNobody("inspect", name, "--trust-owner", "0", "--json");
        assertThat(trusted.exit()).as(trusted.toString()).isZero();
        assertThat(JsonParser.parseObject(trusted.stdout().strip())).containsEntry("owner", "root").containsEntry("ownerUid", 0L);
    }

    /** The CLI's classes, the library and picocli, copied where nobody can read them (the build tree and ~/.m2 may not be). */
    private String worldReadableClassPath() throws IOException {
        Path cp = dir.resolve("cp");
        List<String> entries = new ArrayList<>();
        for (Class<?> type : List.of(Main.class, SharedRegion.class, CommandLine.class)) {
            Path from = location(type);
            Path to = cp.resolve(entries.size() + "-" + from.getFileName());
            copyTree(from, to);
            entries.add(to.toString());
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return String.join(":", entries);
    }

    private static Path location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Whether every directory up to {@code file} is searchable, and the file executable, by others. */
    private static boolean readableByAll(Path file) throws IOException {
        Path real = file.toRealPath();
        if (!Files.getPosixFilePermissions(real).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
            return false;
        }
        for (Path p = real.getParent(); p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                return false;
            }
        }
        return true;
    }
}
