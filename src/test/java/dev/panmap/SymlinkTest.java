package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.testing.LinuxOnly;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20: a symbolic link planted where a region file is expected (a sticky directory, say), pointing
 * at a file the opener may write and the planter may not. Every file open passes {@code O_NOFOLLOW}: the
 * link is refused ({@code ELOOP}, INVALID_ARGUMENT), its target is never opened. On main's code
 * {@code openRawFile(link, OPEN_OR_CREATE)} opened the target and mapped it writable.
 */
@LinuxOnly
class SymlinkTest {
    @TempDir
    Path dir;

    @Test
    void aPlantedLinkIsRefusedByEveryModeAndItsTargetIsUntouched() throws Exception {
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "root only\n".repeat(1000));
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        byte[] before = Files.readAllBytes(secret);
        Path link = Files.createSymbolicLink(dir.resolve("orders.region"), secret);
        RegionOptions options = RegionOptions.defaults().size(4096);

        for (OpenMode mode : new OpenMode[] {OpenMode.OPEN_OR_CREATE, OpenMode.OPEN_ONLY, OpenMode.OPEN_READ_ONLY, OpenMode.OPEN_COPY_ON_WRITE}) {
            assertThatThrownBy(() -> SharedRegion.openRawFile(link, mode, options).close()).as("raw " + mode)
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageContaining("O_NOFOLLOW").hasMessageContaining("failed: ELOOP");
            assertThatThrownBy(() -> SharedRegion.openFile(link, mode, options).close()).as(mode.toString())
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageContaining("failed: ELOOP");
        }
        // a create never goes through a link (O_CREAT|O_EXCL), not even a dangling one
        assertThatThrownBy(() -> SharedRegion.openFile(link, OpenMode.CREATE_ONLY, options).close())
            .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS));
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.region"), dir.resolve("made-through-the-link"));
        assertThatThrownBy(() -> SharedRegion.openFile(dangling, OpenMode.OPEN_OR_CREATE, options).close())
            .isInstanceOf(RegionException.class);
        assertThat(dir.resolve("made-through-the-link")).doesNotExist();

        assertThat(Files.readAllBytes(secret)).isEqualTo(before);
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.getPosixFilePermissions(secret, LinkOption.NOFOLLOW_LINKS)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(new String(before, StandardCharsets.UTF_8)).startsWith("root only");
    }
}
