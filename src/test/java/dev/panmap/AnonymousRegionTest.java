package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.testing.AnonSenderChild;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.OtherUser;
import dev.panmap.testing.RegionChild;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Anonymous regions ({@code memfd_create}) handed over a Unix socket: the same API as a named region
 * on the receiving side, in both addressing modes, seals that keep every holder from shrinking or
 * growing the region, a receiver of another user refused, and a receiver that keeps the region when
 * the sender is killed.
 */
@LinuxOnly
class AnonymousRegionTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aReceiverInThisProcessSeesTheSameMemory(Addressing addressing) throws Exception {
        Path socketPath = dir.resolve("r.sock");
        try (SharedRegion region = SharedRegion.createAnonymous(RegionOptions.defaults().size(64 << 10).addressing(addressing));
             RegionSocket socket = RegionSocket.listen(region, socketPath)) {
            assertThat(region.backing()).isEqualTo(SharedRegion.Backing.ANONYMOUS);
            assertThat(region.name()).startsWith("memfd:panmap-");
            try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
                assertThat(shm.map(p -> p.getFileName().toString()))
                    .as("no name in /dev/shm").noneMatch(n -> n.contains(region.name().substring("memfd:".length())));
            }
            region.segment().set(ValueLayout.JAVA_LONG, 128, 77);
            CompletableFuture<Optional<RegionSocket.Handover>> handed = CompletableFuture.supplyAsync(() -> socket.handOver(WAIT));
            // a second mapping of the same region in this process: a DIRECT one must fall back (its base is taken)
            try (SharedRegion received = SharedRegion.receive(socketPath, OpenMode.OPEN_ONLY,
                     RegionOptions.defaults().allowOffsetFallback(true))) {
                RegionSocket.Handover h = handed.get().orElseThrow();
                assertThat(h.granted()).isTrue();
                assertThat(h.pid()).isEqualTo(ProcessHandle.current().pid());
                assertThat(received.backing()).isEqualTo(SharedRegion.Backing.ANONYMOUS);
                assertThat(received.name()).isEqualTo(region.name());
                assertThat(received.addressing()).isEqualTo(addressing);
                assertThat(received.size()).isEqualTo(region.size());
                assertThat(received.isOffsetFallback()).isEqualTo(addressing == Addressing.DIRECT);
                assertThat(received.segment().get(ValueLayout.JAVA_LONG, 128)).isEqualTo(77);
                received.segment().set(ValueLayout.JAVA_LONG, 136, 78);
                assertThat(region.segment().get(ValueLayout.JAVA_LONG, 136)).isEqualTo(78);
                assertThat(received.attachedProcesses()).hasSize(2); // both attaches of this process
                // the two holders have separate writer locks (OFD locks on two open file descriptions)
                assertThat(region.writerLock().tryLock()).isTrue();
                try {
                    assertThat(CompletableFuture.supplyAsync(() -> received.writerLock().tryLock()).get()).isFalse();
                } finally {
                    region.writerLock().unlock();
                }
            }
        }
    }

    @Test
    void sealsKeepEveryHolderFromShrinkingOrGrowingIt() throws Exception {
        try (SharedRegion region = SharedRegion.createAnonymous(RegionOptions.defaults().size(64 << 10))) {
            Path fd = memfdOf(region);
            long size = Files.size(fd);
            assertThat(size).isEqualTo(region.regionSize());
            try (FileChannel ch = FileChannel.open(fd, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                assertThatThrownBy(() -> ch.truncate(4096)).as("F_SEAL_SHRINK").isInstanceOf(IOException.class)
                    .hasMessageContaining("Operation not permitted");
                assertThatThrownBy(() -> ch.write(ByteBuffer.wrap(new byte[] {1}), size)).as("F_SEAL_GROW")
                    .isInstanceOf(IOException.class).hasMessageContaining("Operation not permitted");
                ch.write(ByteBuffer.wrap(new byte[] {5}), region.dataOffset() + 9); // writes inside are allowed
            }
            assertThat(region.segment().get(ValueLayout.JAVA_BYTE, 9)).isEqualTo((byte) 5);
            assertThat(Files.size(fd)).isEqualTo(size);
        }
    }

    @Test
    void oneThatMayGrowIsSealedOnlyAgainstShrinkingAndGrows() throws Exception {
        try (SharedRegion region = SharedRegion.createAnonymous(RegionOptions.defaults().size(64 << 10).maxSize(1 << 20))) {
            region.grow(512 << 10);
            assertThat(region.size()).isEqualTo(512 << 10);
            region.segment().set(ValueLayout.JAVA_LONG, (512 << 10) - 8, 3);
            Path fd = memfdOf(region);
            try (FileChannel ch = FileChannel.open(fd, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                assertThatThrownBy(() -> ch.truncate(4096)).as("F_SEAL_SHRINK").isInstanceOf(IOException.class)
                    .hasMessageContaining("Operation not permitted");
            }
        }
    }

    /** {@return the /proc/self/fd link of the region's memfd} */
    private static Path memfdOf(SharedRegion region) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().equals("/" + region.name() + " (deleted)");
                } catch (IOException e) {
                    return false;
                }
            }).findFirst().orElseThrow(() -> new AssertionError("no descriptor of " + region.name() + " in /proc/self/fd"));
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aChildJvmReceivesItAndKeepsItWhenTheSenderIsKilled(Addressing addressing) {
        Path socketPath = dir.resolve("s.sock");
        try (ChildJvm sender = ChildJvm.start(AnonSenderChild.class, socketPath.toString(), addressing.name(), "4242");
             ChildJvm receiver = ChildJvm.start(RegionChild.class)) {
            sender.awaitLine("LISTENING"::equals, WAIT);
            receiver.awaitPrefix("READY", WAIT);
            receiver.send("receive " + socketPath + " OPEN_ONLY");
            String opened = receiver.awaitPrefix("OPENED ", WAIT);
            String handed = sender.awaitPrefix("HANDED ", WAIT);
            assertThat(handed).contains("pid=" + receiver.pid()).contains("granted=true");
            assertThat(opened).contains("addressing=" + addressing).contains("backing=ANONYMOUS").contains("fallback=false");
            if (addressing == Addressing.DIRECT) {
                assertThat(opened).as("mapped at the sender's base").contains("base=" + handed.substring(handed.indexOf("base=") + 5));
            }
            receiver.send("follow 8");
            assertThat(receiver.awaitPrefix("FOLLOWED ", WAIT)).startsWith("4242 ");
            receiver.send("trylock");
            assertThat(receiver.awaitLine(l -> l.startsWith("LOCKED") || l.startsWith("BUSY") || l.startsWith("ERROR"), WAIT)).startsWith("LOCKED");

            sender.kill(); // after the hand-over: the receiver's descriptor keeps the memory file
            receiver.send("put 4096 4343");
            receiver.awaitLine("OK"::equals, WAIT);
            receiver.send("follow 8");
            assertThat(receiver.awaitPrefix("FOLLOWED ", WAIT)).startsWith("4343 ");
            receiver.send("unlock");
            receiver.awaitLine("UNLOCKED"::equals, WAIT);
        }
    }

    @Test
    void aReceiverOfAnotherUserIsRefusedAndToldWhy() throws Exception {
        OtherUser.assumeAvailable();
        Path socketPath = dir.resolve("other.sock");
        try (SharedRegion region = SharedRegion.createAnonymous(RegionOptions.defaults().size(64 << 10));
             // a socket mode that lets nobody connect: the refusal must come from SO_PEERCRED, not the file mode
             RegionSocket socket = RegionSocket.listen(region, socketPath, Permissions.parse("0666"), Set.of(0));
             ChildJvm other = OtherUser.start(dir, RegionChild.class)) {
            other.awaitPrefix("READY", WAIT);
            other.send("receive " + socketPath + " OPEN_ONLY");
            RegionSocket.Handover h = socket.handOver(WAIT).orElseThrow();
            assertThat(h.granted()).isFalse();
            assertThat(h.uid()).isEqualTo(65534);
            assertThat(h.pid()).isEqualTo(other.pid());
            assertThat(h.refusal()).contains("uid 65534").contains("handed only to uid 0");
            String error = other.awaitPrefix("ERROR ", WAIT);
            assertThat(error).startsWith("PERMISSION_DENIED ").contains("refused to hand over its region").contains("uid 65534");
        }
    }
}
