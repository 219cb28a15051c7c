package dev.panmap.internal.posix;

import static dev.panmap.internal.generated.linux.Libc.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.type;

import dev.panmap.ErrorKind;
import dev.panmap.NativeException;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** errno capture and a round trip through the bindings alone, with real failing system calls. */
@LinuxOnly
class PosixTest {
    @TempDir
    Path dir;

    @Test
    void openOfAMissingPathReportsEnoent() {
        String path = dir.resolve("missing/file").toString();
        assertThatThrownBy(() -> Posix.open(path, O_RDONLY(), 0))
            .asInstanceOf(type(NativeException.class))
            .satisfies(e -> {
                assertThat(e.errorCode()).isEqualTo(ENOENT());
                assertThat(e.errorName()).isEqualTo("ENOENT");
                assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                assertThat(e.function()).isEqualTo("open");
                assertThat(e.getMessage()).isEqualTo("open(\"" + path + "\", O_RDONLY, 0000) failed: ENOENT (No such file or directory)");
            });
    }

    @Test
    void mmapOfABadDescriptorReportsEbadf() {
        assertThatThrownBy(() -> Posix.mmap(0, 4096, PROT_READ(), MAP_SHARED(), 987_654, 0))
            .asInstanceOf(type(NativeException.class))
            .satisfies(e -> {
                assertThat(e.errorCode()).isEqualTo(EBADF());
                assertThat(e.errorName()).isEqualTo("EBADF");
                assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                assertThat(e.getMessage()).isEqualTo("mmap(0x0, 4096, PROT_READ, MAP_SHARED, 987654, 0) failed: EBADF (Bad file descriptor)");
            });
    }

    @Test
    void exclusiveShmOpenOfAnExistingNameReportsEexist() {
        String name = Names.unique("eexist");
        int flags = O_RDWR() | O_CREAT() | O_EXCL();
        int fd = Posix.shmOpen(name, flags, 0600);
        try {
            assertThatThrownBy(() -> Posix.shmOpen(name, flags, 0600))
                .asInstanceOf(type(NativeException.class))
                .satisfies(e -> {
                    assertThat(e.errorCode()).isEqualTo(EEXIST());
                    assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS);
                    assertThat(e.getMessage()).isEqualTo("shm_open(\"" + name + "\", O_RDWR|O_CREAT|O_EXCL, 0600) failed: EEXIST (File exists)");
                });
        } finally {
            Posix.close(fd);
            Posix.shmUnlink(name);
        }
        assertThatThrownBy(() -> Posix.shmUnlink(name))
            .asInstanceOf(type(NativeException.class))
            .extracting(NativeException::kind).isEqualTo(ErrorKind.NOT_FOUND);
    }

    @Test
    void fixedNoReplaceOverAnExistingMappingIsAddressInUse() {
        long page = Posix.pageSize();
        long taken = Posix.mmap(0, page, PROT_READ(), MAP_PRIVATE() | MAP_ANONYMOUS(), -1, 0);
        try {
            assertThatThrownBy(() -> Posix.mmap(taken, page, PROT_READ(), MAP_PRIVATE() | MAP_ANONYMOUS() | MAP_FIXED_NOREPLACE(), -1, 0))
                .asInstanceOf(type(NativeException.class))
                .satisfies(e -> {
                    assertThat(e.errorName()).isEqualTo("EEXIST");
                    assertThat(e.kind()).isEqualTo(ErrorKind.ADDRESS_IN_USE);
                });
        } finally {
            Posix.munmap(taken, page);
        }
    }

    @Test
    void roundTripThroughTheBindingsAlone() throws Exception {
        Path file = dir.resolve("round-trip.bin");
        long size = 3 * Posix.pageSize();
        int fd = Posix.open(file.toString(), O_RDWR() | O_CREAT() | O_EXCL() | O_CLOEXEC(), 0600);
        long address;
        try {
            Posix.ftruncate(fd, size);
            assertThat(Posix.fstat(fd).size()).isEqualTo(size);
            address = Posix.mmap(0, size, PROT_READ() | PROT_WRITE(), MAP_SHARED(), fd, 0);
        } finally {
            Posix.close(fd);
        }
        MemorySegment mapped = MemorySegment.ofAddress(address).reinterpret(size);
        byte[] text = "written through mmap".getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(text, 0, mapped, ValueLayout.JAVA_BYTE, size - text.length, text.length);
        mapped.set(ValueLayout.JAVA_LONG, 0, 0x1122334455667788L);
        Posix.msync(mapped, MS_SYNC());
        Posix.munmap(address, size);

        byte[] back = Files.readAllBytes(file);
        assertThat(back).hasSize((int) size);
        assertThat(new String(back, (int) size - text.length, text.length, StandardCharsets.US_ASCII)).isEqualTo("written through mmap");
        assertThat(java.nio.ByteBuffer.wrap(back).order(java.nio.ByteOrder.nativeOrder()).getLong(0)).isEqualTo(0x1122334455667788L);
    }

    @Test
    void ofdLocksConflictBetweenOpenFileDescriptionsOfOneProcess() throws Exception {
        Path file = dir.resolve("lock");
        int a = Posix.open(file.toString(), O_RDWR() | O_CREAT() | O_CLOEXEC(), 0600);
        int b = Posix.open(file.toString(), O_RDWR() | O_CLOEXEC(), 0);
        try {
            assertThat(Posix.ofdLock(a, 0, 1, false)).isTrue();
            assertThat(Posix.ofdLock(b, 0, 1, false)).as("a second description must not get the lock").isFalse();
            // a classic fcntl lock would be dropped by closing any descriptor of the file; an OFD lock is not
            Posix.close(Posix.open(file.toString(), O_RDONLY() | O_CLOEXEC(), 0));
            assertThat(Posix.ofdLock(b, 0, 1, false)).isFalse();
            Posix.ofdUnlock(a, 0, 1);
            assertThat(Posix.ofdLock(b, 0, 1, false)).isTrue();
        } finally {
            Posix.close(a);
            Posix.close(b);
        }
    }

    @Test
    void processExistence() {
        assertThat(Posix.processExists(Posix.getpid())).isTrue();
        assertThat(Posix.getpid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(Posix.processExists(Integer.MAX_VALUE)).isFalse();
    }

    @Test
    void aHandleClosedWhileAnotherThreadUsesItKeepsItsDescriptorUntilThatCallEnds() throws Exception {
        Path file = dir.resolve("held");
        Files.write(file, new byte[4096]);
        PosixPlatform platform = new PosixPlatform();
        var handle = (PosixPlatform.Fd) platform.open(dev.panmap.internal.Platform.Target.file(file.toString()),
            true);
        Path link = Path.of("/proc/self/fd/" + handle.use()); // a call in flight, as another thread would hold it
        platform.close(handle);
        assertThat(Files.readSymbolicLink(link)).as("the number still names our file while the call runs").isEqualTo(file);
        assertThat(handle.isOpen()).isTrue();
        assertThatThrownBy(() -> platform.status(handle)).as("no new call after close")
            .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        handle.release(); // the last user lets go: now it is closed
        assertThat(handle.isOpen()).isFalse();
        assertThat(!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS) || !Files.readSymbolicLink(link).equals(file)).isTrue();
        platform.close(handle); // idempotent
    }
}
