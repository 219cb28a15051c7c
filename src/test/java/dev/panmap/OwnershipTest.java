package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.OtherUser;
import dev.panmap.testing.RegionChild;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20's hijack by name squatting: another user creates the name first, with a wide mode. The
 * squatter is a real child JVM running as {@code nobody}; the victim is this JVM (root). On the code
 * before the ownership check, OPEN_OR_CREATE adopted the squatter's object silently (created() false).
 */
@LinuxOnly
class OwnershipTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private static int myUid() {
        return dev.panmap.internal.Platform.current().currentUid();
    }

    @Test
    void openOrCreateRefusesAnObjectAnotherUserMadeFirst() throws Exception {
        String name = Names.unique("squat");
        try (ChildJvm squatter = OtherUser.start(dir, RegionChild.class)) {
            squatter.awaitPrefix("READY", WAIT);
            squatter.send("create shm " + name + " 0666");
            assertThat(squatter.awaitPrefix("CREATED ", WAIT)).isEqualTo("mode=0666");
            try {
                RegionOptions asked = RegionOptions.defaults().size(4096); // 0600
                assertThatThrownBy(() -> SharedRegion.open(name, OpenMode.OPEN_OR_CREATE, asked))
                    .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PERMISSION_DENIED))
                    .hasMessageContaining(name + " exists, owned by uid " + OtherUser.UID + " with mode 0666")
                    .hasMessageContaining("expected an object of this process's uid " + myUid() + " with mode 0600 at most")
                    .hasMessageContaining("trustedOwners");
                // the caller who trusts that user adopts it, and sees whose it is
                try (SharedRegion adopted = SharedRegion.open(name, OpenMode.OPEN_OR_CREATE, asked.trustedOwners(OtherUser.UID))) {
                    assertThat(adopted.created()).isFalse();
                    assertThat(adopted.ownerUid()).isEqualTo(OtherUser.UID);
                    assertThat(adopted.permissions()).isEqualTo(Permissions.unrestricted());
                }
                // OPEN_ONLY keeps working across users (a consumer of another account), and says whose it is
                try (SharedRegion consumer = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
                    assertThat(consumer.ownerUid()).isEqualTo(OtherUser.UID);
                    assertThat(consumer.permissions().mode()).isEqualTo(0666);
                }
                // ... unless trusted owners are named, and that user is not one of them
                assertThatThrownBy(() -> SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults().trustedOwners(4242)))
                    .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PERMISSION_DENIED))
                    .hasMessageContaining("owned by uid " + OtherUser.UID)
                    .hasMessageContaining("trusted owners: uid 4242");
            } finally {
                SharedRegion.remove(name);
            }
        }
    }

    @Test
    void aFileRegionPlantedInASharedDirectoryIsRefusedToo() throws Exception {
        Path shared = Files.createDirectory(dir.resolve("shared"));
        // a sticky, world-writable directory, as /tmp
        assertThat(new ProcessBuilder("chmod", "1777", shared.toString()).inheritIO().start().waitFor()).isZero();
        Path file = shared.resolve("orders.region");
        try (ChildJvm squatter = OtherUser.start(dir, RegionChild.class)) {
            squatter.awaitPrefix("READY", WAIT);
            squatter.send("create file " + file + " 0666");
            assertThat(squatter.awaitPrefix("CREATED ", WAIT)).isEqualTo("mode=0666");
            RegionOptions asked = RegionOptions.defaults().size(4096);
            assertThatThrownBy(() -> SharedRegion.openFile(file, OpenMode.OPEN_OR_CREATE, asked))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PERMISSION_DENIED))
                .hasMessageContaining("owned by uid " + OtherUser.UID + " with mode 0666");
            assertThatThrownBy(() -> SharedRegion.openRawFile(file, OpenMode.OPEN_OR_CREATE, asked))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PERMISSION_DENIED));
            try (SharedRegion consumer = SharedRegion.openFile(file, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
                assertThat(consumer.ownerUid()).isEqualTo(OtherUser.UID);
            }
        }
    }

    /** Needs no second user: this user's own object, made wider than the open asks for. */
    @Test
    void openOrCreateRefusesItsOwnObjectWithAWiderMode() {
        String name = Names.unique("wide");
        try (SharedRegion wide = SharedRegion.create(name, RegionOptions.defaults().size(4096).permissions(Permissions.parse("0640")))) {
            assertThatThrownBy(() -> SharedRegion.open(name, OpenMode.OPEN_OR_CREATE, RegionOptions.defaults().size(4096)))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PERMISSION_DENIED))
                .hasMessageContaining("with mode 0640, wider than the 0600 OPEN_OR_CREATE asked for (bits 040 are more)");
            // as wide as asked, or narrower: adopted
            try (SharedRegion same = SharedRegion.open(name, OpenMode.OPEN_OR_CREATE,
                     RegionOptions.defaults().size(4096).permissions(Permissions.parse("0660")))) {
                assertThat(same.created()).isFalse();
                assertThat(same.ownerUid()).isEqualTo(myUid());
            }
            // its own uid named as trusted: adopted as it is
            try (SharedRegion trusted = SharedRegion.open(name, OpenMode.OPEN_OR_CREATE,
                     RegionOptions.defaults().size(4096).trustedOwners(myUid()))) {
                assertThat(trusted.created()).isFalse();
            }
        } finally {
            SharedRegion.remove(name);
        }
    }
}
