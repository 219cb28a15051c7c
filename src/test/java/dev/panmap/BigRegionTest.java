package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.testing.LinuxOnly;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: file regions past the 32-bit offsets, and past RAM. A 3 GiB region and one larger than
 * this machine's memory (64 GiB, or twice the RAM where that is more), in both addressing modes,
 * written and read at the start, on both sides of 2^31 and 2^32 (counted from the data area and from
 * the file, aligned and straddling) and at the very end; read again through a second attach and after
 * a close and reopen; removed.
 *
 * <p>The files are sparse ({@code reserve(false)}): only the few pages touched take disk space, and
 * the test checks that they stay few, so it needs little free space and runs in seconds.
 */
@LinuxOnly
class BigRegionTest {
    private static final long GIB = 1L << 30;
    /** The pages touched, the header and the file system's metadata take a few MiB; this leaves room for them. */
    private static final long FREE_SPACE_NEEDED = 256L << 20;

    @TempDir
    Path dir;

    static Stream<Arguments> regions() throws IOException {
        long ram = memTotal();
        long beyondRam = ram < 64 * GIB ? 64 * GIB : (2 * ram + GIB - 1) / GIB * GIB;
        return Stream.of(Addressing.OFFSET, Addressing.DIRECT).flatMap(a -> Stream.of(
            Arguments.of("3 GiB", 3 * GIB, a),
            Arguments.of((beyondRam / GIB) + " GiB, more than the " + (ram >> 20) + " MiB of RAM", beyondRam, a)));
    }

    @ParameterizedTest(name = "{0}, {2}")
    @MethodSource("regions")
    void writesAndReadsAcrossTheFourGigabyteMarksAndAtTheEnd(String what, long size, Addressing addressing) throws Exception {
        // statvfs of the folder itself: Files.getFileStore looks the path up in /proc/self/mounts, where a
        // chroot's paths are not (the arm64 environment's run failed here with "Mount point not found")
        long usable = dir.toFile().getUsableSpace();
        assumeTrue(usable >= FREE_SPACE_NEEDED, "skipped: " + dir + " has " + (usable >> 20) + " MiB free, the sparse "
            + what + " region needs about " + (FREE_SPACE_NEEDED >> 20) + " MiB for the pages it touches");
        Path file = dir.resolve("big-" + addressing + "-" + (size / GIB) + "g");
        RegionOptions create = RegionOptions.defaults().size(size).addressing(addressing).reserve(false);
        try {
            List<Long> offsets;
            try (SharedRegion r = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, create)) {
                assertThat(r.size()).isEqualTo(size);
                assertThat(r.regionSize()).isEqualTo(r.dataOffset() + size);
                assertThat(Files.size(file)).isEqualTo(r.regionSize());
                assertThat(r.addressing()).isEqualTo(addressing);
                if (addressing == Addressing.DIRECT) {
                    assertThat(r.baseAddress()).isEqualTo(r.recordedBaseAddress());
                }
                offsets = offsets(size, r.dataOffset());
                MemorySegment data = r.segment();
                for (long at : offsets) {
                    data.set(ValueLayout.JAVA_LONG_UNALIGNED, at, valueAt(at));
                }
                assertReads(data, offsets, "the creator, right after writing");
                // a second attach while the creator is open (DIRECT: the creator holds the base in this process)
                try (SharedRegion reader = SharedRegion.openFile(file, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults().allowOffsetFallback(true))) {
                    assertThat(reader.size()).isEqualTo(size);
                    assertThat(reader.isOffsetFallback()).isEqualTo(addressing == Addressing.DIRECT);
                    assertReads(reader.segment(), offsets, "a second, read-only attach");
                }
            }
            try (SharedRegion r = SharedRegion.openFile(file, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
                assertThat(r.size()).isEqualTo(size);
                assertThat(r.isOffsetFallback()).as("reopened at its own base").isFalse();
                assertReads(r.segment(), offsets, "a read-write reopen");
                long last = size - 8;
                r.segment().set(ValueLayout.JAVA_LONG, last, ~valueAt(last));
            }
            try (SharedRegion r = SharedRegion.openFile(file, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
                assertThat(r.segment().get(ValueLayout.JAVA_LONG, size - 8)).as("the last long, rewritten by the reopen").isEqualTo(~valueAt(size - 8));
                assertThat(r.segment().get(ValueLayout.JAVA_LONG, 0)).isEqualTo(valueAt(0));
                assertThat(r.segment().get(ValueLayout.JAVA_LONG, size / 2 & -8)).as("a page never written reads as zeros").isZero();
            }
            long allocated = allocatedBytes(file);
            assertThat(allocated).as("disk space the sparse file of " + Files.size(file) + " bytes takes").isLessThan(64L << 20);
            System.out.println("BigRegionTest: " + what + ", " + addressing + ": " + offsets.size() + " longs written and read back at "
                + offsets.stream().map(o -> "0x" + Long.toHexString(o)).toList() + "; " + (allocated >> 10) + " KiB on disk");
            SharedRegion.removeFile(file);
            assertThat(file).doesNotExist();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * {@return the data-area offsets to write a long at}: the start, and on each side of 2^31 and 2^32
     * (an aligned long just below, one straddling the mark, one just above), counted from the data
     * area and from the start of the file, and the very end; those that fit, without overlaps
     */
    static List<Long> offsets(long size, long dataOffset) {
        TreeSet<Long> wanted = new TreeSet<>(List.of(0L, size - 8));
        for (long mark : new long[] {1L << 31, 1L << 32, 1L << 33, 1L << 36}) {
            for (long at : new long[] {mark, mark - dataOffset}) {
                wanted.add(at - 16);
                wanted.add(at - 3); // straddles the mark: bytes at - 3 .. at + 4
                wanted.add(at + 8);
            }
        }
        List<Long> offsets = new ArrayList<>();
        long free = 0; // the lowest offset not yet taken by a long
        for (long at : wanted) {
            if (at >= free && at + 8 <= size) {
                offsets.add(at);
                free = at + 8;
            }
        }
        return offsets;
    }

    /** {@return a value that names its offset} */
    static long valueAt(long offset) {
        return 0xB16_0000_0000_0000L ^ offset * 0x9E37_79B9_7F4A_7C15L;
    }

    private static void assertReads(MemorySegment data, List<Long> offsets, String who) {
        for (long at : offsets) {
            assertThat(data.get(ValueLayout.JAVA_LONG_UNALIGNED, at)).as(who + ": the long at data offset 0x" + Long.toHexString(at))
                .isEqualTo(valueAt(at));
        }
    }

    /** {@return the bytes of disk the file takes} ({@code stat %b} blocks of {@code %B} bytes) */
    private static long allocatedBytes(Path file) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
        String out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(stat.waitFor()).as("stat: " + out).isZero();
        String[] blocks = out.split(" ");
        return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
    }

    /** {@return MemTotal from /proc/meminfo, in bytes} */
    static long memTotal() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no MemTotal in /proc/meminfo");
    }
}
