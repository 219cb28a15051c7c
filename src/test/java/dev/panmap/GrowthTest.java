package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.structures.RegionHeap;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionChild;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Growth in place ({@link SharedRegion#grow}): both addressing modes, other processes following on
 * their next {@code segment()}, the heap allocating in the grown part, the limits (reserved span, no
 * shrinking, a full file system), and a backing shrunk under a mapping.
 */
class GrowthTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long KIB = 1024;

    @TempDir
    Path dir;

    @org.junit.jupiter.api.extension.RegisterExtension
    final dev.panmap.testing.RegionNames regions = new dev.panmap.testing.RegionNames();

    /** A unique name, removed after the test. */
    private String name(String stem) {
        return regions.next(stem);
    }

    private static RegionOptions growable(Addressing addressing) {
        return RegionOptions.defaults().size(64 * KIB).maxSize(4096 * KIB).addressing(addressing);
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aRegionGrowsInPlaceAndAnotherObjectSeesItOnItsNextSegment(Addressing addressing) {
        String name = name("grow-" + addressing);
        try (SharedRegion region = SharedRegion.create(name, growable(addressing));
             SharedRegion other = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true))) {
            long base = region.baseAddress();
            MemorySegment before = region.segment();
            before.set(ValueLayout.JAVA_LONG, 64 * KIB - 8, 11L);
            assertThat(region.generation()).isEqualTo(1);
            assertThat(region.reservedSpan()).isEqualTo(region.dataOffset() + 4096 * KIB);

            region.grow(1000 * KIB);

            assertThat(region.size()).isEqualTo((1000 * KIB + 4095) / 4096 * 4096); // whole pages
            assertThat(region.baseAddress()).as("in place").isEqualTo(base);
            assertThat(region.generation()).isEqualTo(2);
            MemorySegment after = region.segment();
            assertThat(after.get(ValueLayout.JAVA_LONG, 64 * KIB - 8)).isEqualTo(11L);
            after.set(ValueLayout.JAVA_LONG, after.byteSize() - 8, 22L);
            assertThat(before.get(ValueLayout.JAVA_LONG, 64 * KIB - 8)).as("an old segment stays valid").isEqualTo(11L);

            assertThat(other.size()).as("not yet looked").isEqualTo(64 * KIB);
            MemorySegment seen = other.segment();
            assertThat(seen.byteSize()).isEqualTo(after.byteSize());
            assertThat(seen.get(ValueLayout.JAVA_LONG, seen.byteSize() - 8)).isEqualTo(22L);
            assertThat(other.generation()).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void anotherProcessFollowsTheGrowthAndPointersStayValid(Addressing addressing) {
        String name = name("grow-x-" + addressing);
        try (SharedRegion region = SharedRegion.create(name, growable(addressing));
             ChildJvm child = ChildJvm.start(RegionChild.class)) {
            child.awaitPrefix("READY", WAIT);
            child.send("open shm " + name + " OPEN_ONLY");
            assertThat(child.awaitPrefix("OPENED", WAIT)).contains("size=" + 64 * KIB);
            long far = 2000 * KIB;
            region.grow(far + 4 * KIB);
            region.segment().set(ValueLayout.JAVA_LONG, far, 4242L);
            child.send("size");
            assertThat(child.awaitPrefix("SIZE ", WAIT)).startsWith("size=" + (far + 4 * KIB) + " gen=2 base=")
                .endsWith(addressing == Addressing.DIRECT ? Long.toHexString(region.baseAddress()) : "");
            child.send("get " + far);
            assertThat(child.awaitPrefix("VALUE ", WAIT)).isEqualTo("4242");
            child.send("grow " + (3000 * KIB)); // the child grows it further, the creator follows
            assertThat(child.awaitPrefix("GROWN ", WAIT)).startsWith("size=" + 3000 * KIB + " gen=3");
            child.send("put " + (3000 * KIB - 8) + " 77");
            child.awaitPrefix("OK", WAIT);
            assertThat(region.segment().get(ValueLayout.JAVA_LONG, 3000 * KIB - 8)).isEqualTo(77L);
            if (addressing == Addressing.DIRECT) {
                // a pointer stored before the growth, into the old part, still works in the other process
                region.segment().set(ValueLayout.JAVA_LONG, 0, 555L);
                child.send("storeref 8 0");
                child.awaitPrefix("OK", WAIT);
                child.send("follow 8");
                assertThat(child.awaitPrefix("FOLLOWED ", WAIT)).startsWith("555 ref=" + Long.toHexString(region.baseAddress() + region.dataOffset()) + " ");
            }
            child.send("exit");
        }
    }

    @Test
    void theHeapAllocatesInTheGrownPartAfterItIsExtended() {
        String name = name("grow-heap");
        try (SharedRegion region = SharedRegion.create(name, growable(Addressing.OFFSET));
             SharedRegion other = SharedRegion.open(name)) {
            RegionHeap heap = RegionHeap.create(region, 0, region.size());
            RegionHeap seenElsewhere = RegionHeap.attach(other, 0);
            heap.allocate(60 * KIB);
            assertThatThrownBy(() -> heap.allocate(8 * KIB)).isInstanceOfSatisfying(RegionException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NO_SPACE));
            try (var held = region.writerLock().hold()) {
                region.grow(256 * KIB);
                heap.extend(region.size());
            }
            long at = seenElsewhere.allocate(100 * KIB); // another object, after the growth
            assertThat(at + 100 * KIB).isLessThanOrEqualTo(other.size());
            other.segment().set(ValueLayout.JAVA_LONG, at + 100 * KIB - 8, 9L);
            assertThat(region.segment().get(ValueLayout.JAVA_LONG, at + 100 * KIB - 8)).isEqualTo(9L);
            assertThatThrownBy(() -> heap.extend(region.size() / 2)).isInstanceOf(IllegalStateException.class); // not held
        }
    }

    @Test
    void theLimitsAreClearAndLeaveTheRegionAsItWas() {
        String name = name("grow-limits");
        try (SharedRegion fixed = SharedRegion.create(name, RegionOptions.defaults().size(64 * KIB))) {
            assertThatThrownBy(() -> fixed.grow(128 * KIB)).isInstanceOfSatisfying(RegionException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.LIMIT_REACHED);
                assertThat(e.getMessage()).contains("reserved span is " + 64 * KIB).contains("RegionOptions.maxSize");
            });
            assertThatThrownBy(() -> fixed.grow(4 * KIB)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shrinking is not offered");
            fixed.grow(64 * KIB); // the same size: nothing to do
            assertThat(fixed.size()).isEqualTo(64 * KIB);
            assertThat(fixed.generation()).isEqualTo(1);
        }
        try (SharedRegion readOnly = SharedRegion.create(name("grow-ro"), growable(Addressing.OFFSET))) {
            try (SharedRegion reader = SharedRegion.open(readOnly.name(), OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
                assertThatThrownBy(() -> reader.grow(128 * KIB)).isInstanceOf(IllegalStateException.class);
                readOnly.grow(128 * KIB);
                assertThat(reader.segment().byteSize()).as("a reader follows too").isEqualTo(128 * KIB);
            } finally {
                SharedRegion.remove(readOnly.name());
            }
        } finally {
            SharedRegion.remove(name);
        }
    }

    @Test
    @LinuxOnly // a tmpfs mount; and file regions do not grow on Windows
    void aFullFileSystemFailsTheGrowWithNoSpaceAndChangesNothing() throws Exception {
        Path mount = dir.resolve("small");
        Files.createDirectories(mount);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.toString()) == 0,
            "cannot mount a small tmpfs here (needs root): the full-file-system case is not checked");
        try {
            Path file = mount.resolve("region");
            try (SharedRegion region = SharedRegion.openFile(file, OpenMode.CREATE_ONLY,
                    RegionOptions.defaults().size(256 * KIB).maxSize(8192 * KIB))) {
                region.segment().set(ValueLayout.JAVA_LONG, 0, 1L);
                long fileSize = Files.size(file);
                assertThatThrownBy(() -> region.grow(4096 * KIB)).isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.NO_SPACE);
                    assertThat(e.function()).isEqualTo("posix_fallocate");
                });
                assertThat(region.size()).isEqualTo(256 * KIB);
                assertThat(region.generation()).isEqualTo(1);
                assertThat(Files.size(file)).as("the backing is as it was").isEqualTo(fileSize);
                assertThat(region.segment().get(ValueLayout.JAVA_LONG, 0)).isEqualTo(1L);
                region.grow(512 * KIB); // what fits still works
                assertThat(region.size()).isEqualTo(512 * KIB);
            }
        } finally {
            run("umount", mount.toString());
        }
    }

    @Test
    @LinuxOnly // Windows refuses to shrink a file that has a view (ERROR_USER_MAPPED_FILE): it cannot happen there
    void aBackingShrunkUnderTheMappingIsCorruptOnRefreshAndReadsZerosNotAFault() throws Exception {
        Path file = dir.resolve("shrunk");
        try (SharedRegion region = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(256 * KIB))) {
            MemorySegment data = region.segment();
            data.set(ValueLayout.JAVA_LONG, 200 * KIB, 5L);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(region.dataOffset() + 64 * KIB); // someone else shrinks the file
            }
            assertThatThrownBy(region::refresh).isInstanceOfSatisfying(RegionException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_REGION);
                assertThat(e.getMessage()).contains("is truncated: its backing is " + (region.dataOffset() + 64 * KIB) + " bytes, the region "
                    + (region.dataOffset() + 256 * KIB));
            });
            assertThatThrownBy(region::segment).isInstanceOf(RegionException.class).hasMessageContaining("is truncated");
            assertThat(region.isUsable()).isFalse();
            assertThat(data.get(ValueLayout.JAVA_LONG, 200 * KIB)).as("the lost part reads as zeros, never a SIGBUS").isZero();
            assertThat(data.get(ValueLayout.JAVA_LONG, 8)).isZero();
        }
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
