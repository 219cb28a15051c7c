package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.testing.AnonSenderChild;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.OtherUser;
import dev.panmap.testing.Requirement;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20's socket items: the socket is reachable only with its final mode (on main's code it was
 * bound at its path, then chmod-ed by path: briefly the umask's mode, and a chmod that follows a
 * link); a socket left by a killed process is replaced (main: "OTHER: bind ... errno 98"), another
 * user's is ALREADY_EXISTS; a receiver checks the sender's uid before it shows anything the sender
 * wrote (main showed another user's refusal text first).
 */
@LinuxOnly
class SocketSafetyTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void theSocketIsBoundAwayFromItsPathAndLinkedThereWithItsMode() throws Exception {
        Requirement.strace("to watch the child's calls");
        Path socket = dir.resolve("orders.sock");
        Path trace = dir.resolve("trace");
        try (ChildJvm sender = ChildJvm.startWrapped(List.of("strace", "-f", "-qq", "-e",
                 "trace=bind,chmod,fchmodat,?fchmodat2,link,linkat,rename,renameat2", "-o", trace.toString()),
                 AnonSenderChild.class, socket.toString(), "OFFSET", "7")) {
            sender.awaitLine("LISTENING"::equals, WAIT);
            assertThat(Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0140600);
        }
        List<String> calls = Files.readAllLines(trace).stream().filter(l -> l.contains(dir.toString())).toList();
        String quoted = "\"" + socket + "\"";
        assertThat(calls).as("no bind at the socket's own path").noneMatch(l -> l.contains("bind(") && l.contains(quoted));
        assertThat(calls).as("no chmod of the socket's path").noneMatch(l -> l.contains("chmod") && l.contains(quoted));
        assertThat(calls).as("bound in a private directory, linked to its path").anyMatch(l -> l.contains("bind(") && l.contains("/.pm"))
            .anyMatch(l -> l.contains("link") && l.contains(quoted) && l.contains("= 0"));
    }

    @Test
    void aStaleSocketOfOursIsReplacedALiveOneOrAFileIsNot() throws Exception {
        Path socket = dir.resolve("stale.sock");
        try (ChildJvm killed = ChildJvm.start(AnonSenderChild.class, socket.toString(), "OFFSET", "7")) {
            killed.awaitLine("LISTENING"::equals, WAIT);
            killed.process().destroyForcibly().waitFor();
        }
        assertThat(Files.exists(socket, LinkOption.NOFOLLOW_LINKS)).as("a killed listener leaves its socket").isTrue();
        try (SharedRegion region = SharedRegion.createAnonymous(RegionOptions.defaults().size(1 << 16));
             RegionSocket replaced = RegionSocket.listen(region, socket)) {
            assertThat(Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0140600);
            // now someone listens there: a second listener is refused, and the first keeps its socket
            assertThatThrownBy(() -> RegionSocket.listen(region, socket))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS))
                .hasMessageContaining("a process listens on it");
            Path file = Files.writeString(dir.resolve("not-a-socket"), "data");
            assertThatThrownBy(() -> RegionSocket.listen(region, file))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS))
                .hasMessageContaining("is not a socket");
            assertThat(Files.readString(file)).isEqualTo("data");
            assertThat(Files.list(dir)).as("no private directory is left behind").noneMatch(p -> p.getFileName().toString().startsWith(".pm"));
        }
    }

    @Test
    void anotherUsersSocketIsNotReplacedAndItsWordsAreNotShown() throws Exception {
        OtherUser.assumeAvailable();
        Path shared = Files.createDirectory(dir.resolve("shared"));
        assertThat(new ProcessBuilder("chmod", "1777", shared.toString()).inheritIO().start().waitFor()).isZero();
        Path socket = shared.resolve("theirs.sock");
        try (ChildJvm other = OtherUser.start(dir, AnonSenderChild.class, socket.toString(), "OFFSET", "7")) {
            other.awaitLine("LISTENING"::equals, WAIT);
            try (SharedRegion region = SharedRegion.createAnonymous(RegionOptions.defaults().size(1 << 16))) {
                assertThatThrownBy(() -> RegionSocket.listen(region, socket, Permissions.ownerOnly(), Set.of(0)))
                    .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS))
                    .hasMessageContaining("a socket of uid " + OtherUser.UID);
            }
            // it hands its region only to its own user, and says so; that text is not shown to this user
            assertThatThrownBy(() -> SharedRegion.receive(socket))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.PERMISSION_DENIED))
                .hasMessageContaining("runs as uid " + OtherUser.UID).hasMessageContaining("what it sent is not shown")
                .hasMessageNotContaining("handed only to");
            assertThat(other.awaitPrefix("HANDED ", WAIT)).contains("granted=false");
        }
    }
}
