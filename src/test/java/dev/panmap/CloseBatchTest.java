package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.internal.CloseBatch;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionNames;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The default close (no handshake per region: {@code CloseBatch}): what a region's close gives back at
 * once, what a segment kept past the close does until its batch's arena closes, and that it never
 * faults nor reaches another region or the object.
 */
@LinuxOnly // Platform.retire is POSIX's: on Windows every region closes its own arena
class CloseBatchTest {
    private static final RegionOptions SIZE = RegionOptions.defaults().size(64 * 1024);
    @RegisterExtension
    final RegionNames regions = new RegionNames();

    private String name(String stem) {
        return regions.next(stem);
    }

    @BeforeEach
    void freshBatch() {
        CloseBatch.endCurrent(); // what other tests left: this test's regions start a batch of their own
    }

    @AfterEach
    void endTheBatch() {
        CloseBatch.endCurrent(); // before RegionNames removes the names
    }

    @Test
    void aSegmentKeptPastCloseReadsZerosAndItsStoresReachNothingUntilTheBatchEnds() {
        String n = name("batch-kept");
        try (SharedRegion other = SharedRegion.create(n, SIZE.ownArena(true))) {
            other.segment().set(ValueLayout.JAVA_LONG, 0, 42);
            SharedRegion r = SharedRegion.open(n);
            MemorySegment kept = r.segment();
            assertThat(kept.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(42);
            r.close();
            assertThatThrownBy(r::segment).as("the region's own methods refuse at once").isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(r::force).isInstanceOf(IllegalStateException.class);
            assertThat(kept.get(ValueLayout.JAVA_LONG, 0)).as("a kept segment reads zeros, not the region").isZero();
            kept.set(ValueLayout.JAVA_LONG, 0, 7);
            assertThat(other.segment().get(ValueLayout.JAVA_LONG, 0)).as("a late store does not reach the object").isEqualTo(42);
            assertThat(mapsOf(n, kept)).as("nothing of the object stays mapped in the closed region's range").isEmpty();

            CloseBatch.endCurrent(); // the batch's arena closes: its segments now throw
            assertThatThrownBy(() -> kept.get(ValueLayout.JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> kept.set(ValueLayout.JAVA_LONG, 0, 8)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aClosedRegionsRangeIsNotReusedBeforeItsBatchEnds() {
        String a = name("batch-a");
        String b = name("batch-b");
        SharedRegion first = SharedRegion.create(a, SIZE);
        first.segment().set(ValueLayout.JAVA_LONG, 0, 1);
        MemorySegment kept = first.segment();
        first.close();
        List<SharedRegion> later = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) { // a range is reused first fit once it is an ordinary reservation: not before
                SharedRegion r = i == 0 ? SharedRegion.create(b, SIZE) : SharedRegion.open(b);
                later.add(r);
                r.segment().set(ValueLayout.JAVA_LONG, 0, 99);
                long at = r.segment().address();
                assertThat(at + r.segment().byteSize() <= kept.address() || at >= kept.address() + kept.byteSize())
                    .as("a later region's range (0x%x) overlaps the closed one's (0x%x)", at, kept.address()).isTrue();
            }
            assertThat(kept.get(ValueLayout.JAVA_LONG, 0)).as("never another region's bytes").isZero();
        } finally {
            later.forEach(SharedRegion::close);
        }
        CloseBatch.endCurrent();
        assertThatThrownBy(() -> kept.get(ValueLayout.JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void threadsRacingTheCloseNeverFaultReadZerosAndStopWhenTheBatchEnds() throws Exception {
        String n = name("batch-race");
        try (SharedRegion other = SharedRegion.create(n, RegionOptions.defaults().size(1 << 20).ownArena(true))) {
            SharedRegion r = SharedRegion.open(n);
            MemorySegment data = r.segment();
            AtomicReference<Throwable> readerStop = new AtomicReference<>();
            AtomicReference<Throwable> writerStop = new AtomicReference<>();
            AtomicLong zeroPasses = new AtomicLong();
            AtomicLong stores = new AtomicLong();
            CountDownLatch running = new CountDownLatch(2);
            Thread reader = new Thread(() -> {
                try {
                    while (true) {
                        long sum = 0;
                        for (long i = 0; i < data.byteSize(); i += 4096) {
                            sum |= data.get(ValueLayout.JAVA_LONG, i);
                        }
                        if (sum == 0) {
                            zeroPasses.incrementAndGet();
                        }
                        running.countDown();
                    }
                } catch (Throwable t) {
                    readerStop.set(t);
                }
            });
            Thread writer = new Thread(() -> {
                try {
                    for (long v = 1; ; v++) {
                        data.set(ValueLayout.JAVA_LONG, 8, v);
                        stores.set(v);
                        running.countDown();
                    }
                } catch (Throwable t) {
                    writerStop.set(t);
                }
            });
            reader.start();
            writer.start();
            assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
            r.close();
            long atClose = other.segment().get(ValueLayout.JAVA_LONG, 8);
            long storesAtClose = stores.get();
            Thread.sleep(100);
            assertThat(reader.isAlive() && writer.isAlive()).as("both still run: reader stopped by " + readerStop.get()
                + ", writer by " + writerStop.get()).isTrue();
            assertThat(stores.get()).as("the writer keeps storing after the close").isGreaterThan(storesAtClose);
            assertThat(other.segment().get(ValueLayout.JAVA_LONG, 8)).as("none of its stores after the close reaches the object")
                .isEqualTo(atClose);
            assertThat(zeroPasses.get()).as("the reader reads zeros after the close").isPositive();

            CloseBatch.endCurrent();
            reader.join(30_000);
            writer.join(30_000);
            assertThat(readerStop.get()).isInstanceOf(IllegalStateException.class);
            assertThat(writerStop.get()).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void theGrowthRoomOfAClosedRegionIsGivenBackAtOnce() throws Exception {
        String n = name("batch-room");
        long room = 8L << 30;
        SharedRegion r = SharedRegion.create(n, SIZE.maxSize(room));
        long base = r.segment().address();
        r.close();
        // the room was never mapped, so no segment reaches it: past 1 GiB it goes back to the system at
        // the close, not when the batch ends (a 32 TiB span held until then took a DIRECT base)
        long from = base + (2L << 30);
        long to = base + room;
        List<String> inRoom = Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> {
            String[] fromTo = l.substring(0, l.indexOf(' ')).split("-");
            return Long.parseUnsignedLong(fromTo[0], 16) < to && Long.parseUnsignedLong(fromTo[1], 16) > from;
        }).toList();
        assertThat(inRoom).as("mappings in the closed region's growth room past 2 GiB").isEmpty();
    }

    @Test
    void aRawRegionOfPartPagesLeavesWholePagesBehind(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("raw-23");
        Files.write(file, new byte[23]); // a raw region is the object as it is: not whole pages
        try (SharedRegion raw = SharedRegion.openRawFile(file, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            raw.segment().set(ValueLayout.JAVA_BYTE, 22, (byte) 1);
        }
        CloseBatch.endCurrent(); // its range is a reservation now: a part page there made later maps fail (EINVAL)
        long page = dev.panmap.internal.Platforms.current().pageSize();
        var platform = (dev.panmap.internal.posix.PosixPlatform) dev.panmap.internal.Platforms.current();
        assertThat(platform.reservedRanges()).as("panmap's reserved ranges, whole pages")
            .allSatisfy(r -> assertThat(r[0] % page == 0 && r[1] % page == 0).as("0x%x-0x%x", r[0], r[1]).isTrue());
        for (long room : new long[] {1L << 20, 8L << 30}) { // first fit, then a reservation widened into free space
            try (SharedRegion r = SharedRegion.create(name("batch-after-raw"), SIZE.maxSize(room))) {
                r.segment().set(ValueLayout.JAVA_LONG, 0, room);
            }
        }
    }

    @Test
    void theCloseGivesTheWriterLockBackAtOnce() throws Exception {
        String n = name("batch-lock");
        try (SharedRegion other = SharedRegion.create(n, SIZE.ownArena(true))) {
            SharedRegion r = SharedRegion.open(n);
            r.writerLock().lock();
            assertThat(other.writerLock().tryLock(Duration.ZERO)).as("held by the other open description").isFalse();
            r.close(); // with the lock held: the OS lock goes with the last reference to the descriptor, the mapping's included
            assertThat(other.writerLock().tryLock(Duration.ofSeconds(1))).as("the lock after the close, the batch still open").isTrue();
            other.writerLock().unlock();
        }
    }

    @Test
    void aBatchClosesItsArenaOnceItsRegionsAreAllClosed() {
        String n = name("batch-count");
        SharedRegion.create(n, SIZE).close();
        CloseBatch.endCurrent();
        List<MemorySegment> kept = new ArrayList<>();
        for (int i = 0; i < CloseBatch.REGIONS; i++) {
            try (SharedRegion r = SharedRegion.open(n)) {
                kept.add(r.segment());
            }
            if (i < CloseBatch.REGIONS - 1) {
                assertThat(kept.getFirst().scope().isAlive()).as("after %d closes", i + 1).isTrue();
            }
        }
        assertThat(kept).allSatisfy(s -> assertThat(s.scope().isAlive()).as("the batch's arena, after its last close").isFalse());
        try (SharedRegion r = SharedRegion.open(n)) {
            assertThat(r.segment().scope().isAlive()).isTrue();
            assertThat(CloseBatch.currentCounts()).as("a new batch: admitted, open").containsExactly(1, 1);
        }
    }

    /** {@return this process's /proc/self/maps lines that map the object {@code name} inside {@code range}} */
    private static List<String> mapsOf(String name, MemorySegment range) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.endsWith("/dev/shm" + name)).filter(l -> {
                String[] fromTo = l.substring(0, l.indexOf(' ')).split("-");
                long from = Long.parseUnsignedLong(fromTo[0], 16);
                long to = Long.parseUnsignedLong(fromTo[1], 16);
                return from < range.address() + range.byteSize() && to > range.address();
            }).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
