package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.type;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.internal.RegionLayout;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionChild;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** A region in one process: options, the header checks, bad input and the closing rules. */
@LinuxOnly
class SharedRegionTest {
    private static final RegionOptions SMALL = RegionOptions.defaults().size(64 * 1024);

    @TempDir
    Path dir;

    @org.junit.jupiter.api.extension.RegisterExtension
    final dev.panmap.testing.RegionNames regions = new dev.panmap.testing.RegionNames();

    private String name(String stem) {
        return regions.next(stem);
    }

    @Test
    void sizeIsRoundedToPagesAndHeaderRecordsWhatWasAskedFor() {
        String name = name("size");
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1000))) {
            assertThat(r.size()).isEqualTo(4096);
            assertThat(r.dataOffset()).isEqualTo(4096);
            assertThat(r.regionSize()).isEqualTo(8192);
            assertThat(r.addressing()).isEqualTo(Addressing.OFFSET);
            assertThat(r.layoutVersion()).isEqualTo(RegionLayout.LAYOUT_VERSION);
            assertThat(r.creator()).get().extracting(ProcessInfo::pid).isEqualTo((int) ProcessHandle.current().pid());
            assertThat(r.creator().get().alive()).isTrue();
            assertThat(r.created()).isTrue();
            assertThat(r.name()).isEqualTo(name);
            assertThat(r.permissions()).isEqualTo(Permissions.ownerOnly());
            assertThat(Path.of("/dev/shm" + name)).hasSize(8192);
        }
    }

    @Test
    void namesAreValidatedAndGetOneLeadingSlash() {
        assertThat(SharedRegion.canonicalName("orders")).isEqualTo("/orders");
        assertThat(SharedRegion.canonicalName("/orders")).isEqualTo("/orders");
        for (String bad : new String[] {"", "/", "a/b", "//a", "/..", "x".repeat(256)}) {
            assertThatThrownBy(() -> SharedRegion.create(bad, SMALL)).as(bad)
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("invalid region name");
        }
        assertThat(SharedRegion.canonicalName("x".repeat(255))).hasSize(256);
    }

    @Test
    void openModes() {
        String name = name("modes");
        assertThatThrownBy(() -> SharedRegion.open(name))
            .asInstanceOf(type(NativeException.class))
            .satisfies(e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                assertThat(e.getMessage()).isEqualTo("shm_open(\"" + name + "\", O_RDWR|O_NONBLOCK|O_CLOEXEC, 0000) failed: ENOENT (No such file or directory)");
            });
        try (SharedRegion first = SharedRegion.open(name, OpenMode.OPEN_OR_CREATE, SMALL);
             SharedRegion second = SharedRegion.open(name, OpenMode.OPEN_OR_CREATE, SMALL)) {
            assertThat(first.created()).isTrue();
            assertThat(second.created()).isFalse();
            assertThatThrownBy(() -> SharedRegion.create(name, SMALL))
                .asInstanceOf(type(NativeException.class))
                .satisfies(e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS);
                    assertThat(e.getMessage()).isEqualTo("shm_open(\"" + name + "\", O_RDWR|O_CREAT|O_EXCL|O_NONBLOCK|O_CLOEXEC, 0600) failed: EEXIST (File exists)");
                });
            first.segment().set(ValueLayout.JAVA_INT, 0, 7);
            assertThat(second.segment().get(ValueLayout.JAVA_INT, 0)).isEqualTo(7);

            try (SharedRegion readOnly = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
                assertThat(readOnly.segment().get(ValueLayout.JAVA_INT, 0)).isEqualTo(7);
                assertThat(readOnly.segment().isReadOnly()).isTrue();
                assertThatThrownBy(() -> readOnly.segment().set(ValueLayout.JAVA_INT, 0, 1)).isInstanceOf(RuntimeException.class);
                assertThatThrownBy(() -> readOnly.writerLock().tryLock()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("OPEN_READ_ONLY");
            }
            try (SharedRegion cow = SharedRegion.open(name, OpenMode.OPEN_COPY_ON_WRITE, RegionOptions.defaults())) {
                cow.segment().set(ValueLayout.JAVA_INT, 0, 99);
                assertThat(cow.segment().get(ValueLayout.JAVA_INT, 0)).isEqualTo(99);
                assertThat(first.segment().get(ValueLayout.JAVA_INT, 0)).as("a private write is never shared").isEqualTo(7);
            }
            assertThat(first.attachedProcesses()).hasSize(2); // first and second; read-only/cow are not registered
        }
    }

    @Test
    void removeUnlinksButAttachedProcessesKeepTheRegion() {
        String name = name("remove");
        try (SharedRegion r = SharedRegion.create(name, SMALL)) {
            SharedRegion.remove(name);
            r.segment().set(ValueLayout.JAVA_LONG, 0, 5);
            assertThat(r.segment().get(ValueLayout.JAVA_LONG, 0)).isEqualTo(5);
            assertThatThrownBy(() -> SharedRegion.open(name)).isInstanceOf(NativeException.class)
                .extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND);
        }
        assertThatThrownBy(() -> SharedRegion.remove(name)).hasMessageContaining("shm_unlink").hasMessageContaining("ENOENT");
    }

    @Test
    void useAfterCloseIsAnIllegalStateNotACrash() { // with its own arena; the default's batched close: CloseBatchTest
        SharedRegion r = SharedRegion.create(name("closed"), SMALL.ownArena(true));
        MemorySegment kept = r.segment();
        r.close();
        r.close(); // idempotent
        assertThat(r.isClosed()).isTrue();
        assertThatThrownBy(r::segment).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        assertThatThrownBy(() -> kept.get(ValueLayout.JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(r::force).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> r.writerLock().lock()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closeWhileAnotherThreadReadsStopsTheReaderCleanly() throws Exception {
        SharedRegion r = SharedRegion.create(name("close-during-read"), RegionOptions.defaults().size(1 << 20).ownArena(true));
        MemorySegment data = r.segment();
        CountDownLatch reading = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            long sum = 0;
            try {
                while (true) {
                    for (long i = 0; i < data.byteSize(); i += 8) {
                        sum += data.get(ValueLayout.JAVA_LONG, i);
                    }
                    reading.countDown();
                }
            } catch (Throwable t) {
                failure.set(t);
            }
            if (sum == 42) {
                System.out.print("");
            }
        });
        reader.start();
        reading.await();
        r.close();
        reader.join(30_000);
        assertThat(reader.isAlive()).isFalse();
        assertThat(failure.get()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void flushAdviseAndMemoryLockingWork() {
        try (SharedRegion r = SharedRegion.create(name("flush"), RegionOptions.defaults().size(1 << 20).populate(true))) {
            r.segment().fill((byte) 1);
            r.force();
            r.force(4096, 8192);
            r.forceAsync();
            r.forceAsync(100, 10); // unaligned: rounded out to pages
            for (Advice a : Advice.values()) {
                r.advise(a);
            }
            r.advise(Advice.WILL_NEED, 10, 5000);
            assertThat(r.segment().get(ValueLayout.JAVA_BYTE, 0)).as("DONT_NEED keeps shared data").isEqualTo((byte) 1);
            try {
                r.lockInMemory();
                r.unlockFromMemory();
            } catch (NativeException e) { // a low RLIMIT_MEMLOCK: the error must say so
                assertThat(e.kind()).isEqualTo(ErrorKind.NO_MEMORY);
                assertThat(e.function()).isEqualTo("mlock");
            }
            assertThatThrownBy(() -> r.force(0, r.size() + 1)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void aRefusedMemoryLockIsAClearError() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")) && Files.isExecutable(Path.of("/usr/bin/prlimit")),
            "needs setpriv and prlimit (util-linux) to drop CAP_IPC_LOCK and lower RLIMIT_MEMLOCK");
        String name = name("mlock");
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(4 << 20));
             ChildJvm child = ChildJvm.startWrapped(List.of("setpriv", "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock",
                 "prlimit", "--memlock=65536:65536"), RegionChild.class)) {
            child.awaitPrefix("READY", Duration.ofSeconds(60));
            child.send("open shm " + name + " OPEN_ONLY");
            child.awaitPrefix("OPENED ", Duration.ofSeconds(60));
            child.send("mlock");
            String error = child.awaitPrefix("ERROR ", Duration.ofSeconds(60));
            assertThat(error).startsWith("NO_MEMORY mlock(0x").contains(", " + r.regionSize() + ") failed: ");
        }
    }

    @Test
    void fileRegionsPersistAcrossCloseAndReopen() throws Exception {
        Path file = dir.resolve("persist.region");
        try (SharedRegion r = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, SMALL)) {
            r.segment().set(ValueLayout.JAVA_LONG, 8, 123456789L);
            r.force();
            assertThat(r.backing()).isEqualTo(SharedRegion.Backing.FILE);
        }
        try (SharedRegion r = SharedRegion.openFile(file, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            assertThat(r.segment().get(ValueLayout.JAVA_LONG, 8)).isEqualTo(123456789L);
            assertThat(r.created()).isFalse();
        }
        SharedRegion.removeFile(file);
        assertThat(file).doesNotExist();
    }

    @ParameterizedTest(name = "{0} under umask {1} asked {2}")
    @CsvSource({"shm, 077, 0660", "shm, 000, 0600", "file, 077, 0664", "file, 000, 0600", "shm, 022, 0666"})
    void permissionsAreExactWhateverTheUmask(String backing, String umask, String mode) throws Exception {
        String target = backing.equals("shm") ? name("perm") : dir.resolve("perm-" + umask + "-" + mode).toString();
        try (ChildJvm child = ChildJvm.startWithUmask(umask, RegionChild.class)) {
            child.awaitPrefix("READY", Duration.ofSeconds(60));
            child.send("create " + backing + " " + target + " " + mode);
            assertThat(child.awaitPrefix("CREATED mode=", Duration.ofSeconds(60))).isEqualTo(mode);
            Path path = backing.equals("shm") ? Path.of("/dev/shm" + target) : Path.of(target);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path)))
                .isEqualTo(PosixFilePermissions.toString(PosixFilePermissions.fromString(rwx(Integer.parseInt(mode, 8)))));
        }
    }

    private static String rwx(int mode) {
        StringBuilder s = new StringBuilder();
        for (int shift = 6; shift >= 0; shift -= 3) {
            int b = mode >> shift;
            s.append((b & 4) != 0 ? 'r' : '-').append((b & 2) != 0 ? 'w' : '-').append((b & 1) != 0 ? 'x' : '-');
        }
        return s.toString();
    }

    // ------------------------------------------------------------------ what is not a (good) region

    private void assertRefusedUnchanged(Path file, ErrorKind kind, String messagePart) throws Exception {
        byte[] before = Files.readAllBytes(file);
        var modified = Files.getLastModifiedTime(file);
        RegionOptions quick = RegionOptions.defaults().attachTimeout(Duration.ofMillis(300));
        assertThatThrownBy(() -> SharedRegion.openFile(file, OpenMode.OPEN_ONLY, quick))
            .isInstanceOf(RegionException.class)
            .hasMessageContaining(messagePart)
            .extracting(e -> ((RegionException) e).kind()).isEqualTo(kind);
        assertThat(Arrays.equals(Files.readAllBytes(file), before)).as("the refusal must not modify the file").isTrue();
        assertThat(Files.getLastModifiedTime(file)).isEqualTo(modified);
    }

    private Path validRegionFile(String stem) {
        Path file = dir.resolve(stem);
        try (SharedRegion r = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, SMALL)) {
            r.segment().set(ValueLayout.JAVA_LONG, 0, 1);
        }
        return file;
    }

    private static void patch(Path file, long offset, byte[] bytes) throws Exception {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            raf.write(bytes);
        }
    }

    private static byte[] le(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }

    @Test
    void aFileThatIsNotARegionIsRefused() throws Exception {
        Path file = dir.resolve("foreign.bin");
        byte[] junk = new byte[8192];
        new java.util.Random(1).nextBytes(junk);
        Files.write(file, junk);
        assertRefusedUnchanged(file, ErrorKind.INCOMPATIBLE_REGION, "is not a panmap region");
    }

    @Test
    void anEmptyOrTinyFileIsRefused() throws Exception {
        Path empty = dir.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        assertRefusedUnchanged(empty, ErrorKind.INCOMPATIBLE_REGION, "is empty");
        Path tiny = dir.resolve("tiny.bin");
        Files.write(tiny, new byte[100]);
        assertRefusedUnchanged(tiny, ErrorKind.CORRUPT_REGION, "smaller than a panmap header");
    }

    @Test
    void aTruncatedRegionIsRefused() throws Exception {
        Path file = validRegionFile("truncated");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() / 2);
        }
        assertRefusedUnchanged(file, ErrorKind.CORRUPT_REGION, "is truncated");
    }

    @Test
    void anotherLayoutVersionIsRefused() throws Exception {
        Path file = validRegionFile("version");
        patch(file, RegionLayout.VERSION_OFFSET, le(RegionLayout.LAYOUT_VERSION + 1));
        assertRefusedUnchanged(file, ErrorKind.INCOMPATIBLE_REGION, "layout version " + (RegionLayout.LAYOUT_VERSION + 1));
    }

    @ParameterizedTest(name = "byte {0}")
    @ValueSource(ints = {RegionLayout.DATA_SIZE_OFFSET, RegionLayout.BASE_ADDRESS_OFFSET + 2, RegionLayout.CHECKSUM_OFFSET})
    void aDamagedHeaderIsRefused(int offset) throws Exception {
        Path file = validRegionFile("damaged-" + offset);
        patch(file, offset, new byte[] {(byte) 0x5A});
        assertRefusedUnchanged(file, ErrorKind.CORRUPT_REGION, "damaged header");
    }

    @Test
    void aRegionWhoseCreatorDiedBeforePublishingIsReported() throws Exception {
        Path file = dir.resolve("unfinished");
        byte[] header = new byte[8192];
        ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putInt(RegionLayout.CREATOR_PID_OFFSET, Integer.MAX_VALUE - 7);
        Files.write(file, header);
        assertRefusedUnchanged(file, ErrorKind.CORRUPT_REGION, "died during creation");
    }

    @Test
    void rawOpenMapsAPlainFileAsItIs() throws Exception {
        Path file = dir.resolve("plain.txt");
        Files.writeString(file, "hello from a plain file");
        try (SharedRegion raw = SharedRegion.openRawFile(file, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            assertThat(raw.isRaw()).isTrue();
            assertThat(raw.size()).isEqualTo(Files.size(file));
            assertThat(new String(raw.segment().toArray(ValueLayout.JAVA_BYTE), java.nio.charset.StandardCharsets.US_ASCII))
                .isEqualTo("hello from a plain file");
            raw.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 'H');
            raw.force();
        }
        assertThat(Files.readString(file)).isEqualTo("Hello from a plain file");
    }

    /** Patches a long of the header and re-seals the checksum, as a forger (or a bug) with write access would. */
    private static void forge(Path file, int offset, long value) throws Exception {
        byte[] header = Arrays.copyOf(Files.readAllBytes(file), RegionLayout.MIN_HEADER_SIZE);
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(offset, value);
        b.putInt(RegionLayout.CHECKSUM_OFFSET, RegionLayout.checksum(java.lang.foreign.MemorySegment.ofArray(header)));
        patch(file, 0, header);
    }

    @ParameterizedTest(name = "data size {0}")
    @CsvSource({"9223372036854771712, inconsistent header", "9223372036854775807, inconsistent header",
                "4611686018427387904, inconsistent header", "1099511627776, is truncated", "-4096, inconsistent header"})
    void aForgedSizeNearTwoToThe63IsCorruptNotAnMmap(long dataSize, String expected) throws Exception {
        Path file = validRegionFile("forged-" + Long.toHexString(dataSize));
        long headerSize = RegionLayout.headerSize(RegionLayout.DEFAULT_ATTACH_CAPACITY, 4096);
        forge(file, RegionLayout.DATA_SIZE_OFFSET, dataSize);
        forge(file, RegionLayout.REGION_SIZE_OFFSET, headerSize + dataSize); // wraps where the sum overflows
        forge(file, RegionLayout.RESERVED_SPAN_OFFSET, headerSize + dataSize); // consistent, so only the sizes can refuse it
        forge(file, RegionLayout.CURRENT_SIZE_OFFSET, headerSize + dataSize);
        assertRefusedUnchanged(file, ErrorKind.CORRUPT_REGION, expected);
    }

    @Test
    void aForgedDirectBaseThatWrapsIsCorrupt() throws Exception {
        Path file = dir.resolve("forged-base");
        SharedRegion.openFile(file, OpenMode.CREATE_ONLY, SMALL.addressing(Addressing.DIRECT)).close();
        forge(file, RegionLayout.BASE_ADDRESS_OFFSET, Long.MAX_VALUE & -4096L);
        assertRefusedUnchanged(file, ErrorKind.CORRUPT_REGION, "unusable base address");
    }

    @Test
    void aFifoADirectoryAndADeviceAreRefusedWithoutWaiting() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor()).isZero();
        Path directory = Files.createDirectory(dir.resolve("a-directory"));
        for (var c : java.util.List.of(java.util.Map.entry(fifo, "is a FIFO"), java.util.Map.entry(directory, "is a directory"),
                                       java.util.Map.entry(Path.of("/dev/null"), "is a character device"))) {
            for (OpenMode mode : new OpenMode[] {OpenMode.OPEN_ONLY, OpenMode.OPEN_READ_ONLY}) {
                var attempt = java.util.concurrent.CompletableFuture.runAsync(() -> SharedRegion.openFile(c.getKey(), mode, RegionOptions.defaults()).close());
                assertThatThrownBy(() -> attempt.get(10, java.util.concurrent.TimeUnit.SECONDS)).as(c.getKey() + " " + mode)
                    .isInstanceOf(java.util.concurrent.ExecutionException.class).cause()
                    .isInstanceOf(RegionException.class).hasMessageMatching("(?is).*" + c.getValue() + ".*") // O_RDWR on a directory: EISDIR
                    .extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
            }
        }
        // and a FIFO in /dev/shm under a region name
        String name = name("fifo");
        Path shmFifo = Path.of("/dev/shm" + name);
        assertThat(new ProcessBuilder("mkfifo", shmFifo.toString()).inheritIO().start().waitFor()).isZero();
        try {
            assertThatThrownBy(() -> SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults()))
                .isInstanceOf(RegionException.class).hasMessageContaining("is a FIFO");
        } finally {
            Files.delete(shmFifo);
        }
    }
}
