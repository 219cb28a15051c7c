package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.panmap.internal.RecordLayout;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.Names;
import dev.panmap.testing.RegionChild;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 20: a SeqRecord whose published slot is left with an odd sequence (a hostile or damaged
 * writer; a correct one only ever makes the unpublished slot odd). On main's code read() spun forever.
 * Now a plain read ends with CORRUPT_REGION once it sees that no writer holds the lock, and a read with
 * a timeout ends with WOULD_BLOCK while a writer (another process) holds it.
 */
class SeqRecordBoundTest {
    private static final Duration BOUND = Duration.ofSeconds(20);
    private static final long RECORD = 4096;

    private String name;
    private SharedRegion region;
    private SeqRecord record;

    @BeforeEach
    void create() {
        name = Names.unique("seq-bound");
        region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16));
        record = SeqRecord.format(region, RECORD, 24);
        try (var held = region.writerLock().hold()) {
            record.write(p -> p.fill((byte) 7));
        }
    }

    @AfterEach
    void remove() {
        region.close();
        SharedRegion.remove(name);
    }

    /** Makes the published slot's sequence odd, as no writer of {@link SeqRecord#write} does. */
    private long breakPublishedSlot() {
        MemorySegment data = region.segment();
        long published = data.get(ValueLayout.JAVA_LONG, RECORD + RecordLayout.PUBLISHED_OFFSET);
        long slot = RECORD + RecordLayout.SLOTS_OFFSET + (published & 1) * RecordLayout.slotStride(24) + RecordLayout.SLOT_SEQUENCE_OFFSET;
        long sequence = data.get(ValueLayout.JAVA_LONG, slot);
        data.set(ValueLayout.JAVA_LONG, slot, sequence + 1);
        return published & 1;
    }

    @Test
    void aPublishedSlotLeftOddWithNoWriterIsCorruptNotAnEndlessSpin() {
        assertThat(record.read(Arena.ofAuto().allocate(24))).isEqualTo(1);
        long slot = breakPublishedSlot();
        MemorySegment into = Arena.ofAuto().allocate(24);
        try (SharedRegion reader = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
            SeqRecord other = SeqRecord.attach(reader, RECORD);
            assertTimeoutPreemptively(BOUND, () -> assertThatThrownBy(() -> other.read(into))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_REGION))
                .hasMessageContaining("the SeqRecord at data offset " + RECORD + " of " + name + " is damaged: published slot " + slot)
                .hasMessageContaining("(odd: being written), and no writer holds the lock"));
        }
    }

    @Test
    void aReadWithATimeoutEndsWhileAnotherProcessHoldsTheLockOverAnOddSlot() {
        breakPublishedSlot();
        try (ChildJvm writer = ChildJvm.start(RegionChild.class)) {
            writer.awaitPrefix("READY", BOUND);
            writer.send("open shm " + name + " OPEN_ONLY");
            writer.awaitPrefix("OPENED ", BOUND);
            writer.send("lock");
            writer.awaitPrefix("LOCKED ", BOUND);
            MemorySegment into = Arena.ofAuto().allocate(24);
            long start = System.nanoTime();
            assertTimeoutPreemptively(BOUND, () -> assertThatThrownBy(() -> record.read(into, Duration.ofMillis(300)))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.WOULD_BLOCK))
                .hasMessageContaining("no consistent copy of the SeqRecord at data offset " + RECORD)
                .hasMessageContaining("within 300 ms").hasMessageContaining("a writer holds the lock"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
            // the writer lets go without repairing: the plain read now sees no writer and says what is wrong
            writer.send("unlock");
            writer.awaitPrefix("UNLOCKED", BOUND);
            assertTimeoutPreemptively(BOUND, () -> assertThatThrownBy(() -> record.read(into))
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_REGION)));
        }
    }

    @Test
    void aHealthyRecordReadsWithATimeoutAsWithout() {
        MemorySegment into = Arena.ofAuto().allocate(24);
        assertThat(record.read(into, Duration.ZERO)).isEqualTo(1);
        assertThat(into.get(ValueLayout.JAVA_BYTE, 23)).isEqualTo((byte) 7);
        assertThatThrownBy(() -> record.read(into, Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
    }
}
