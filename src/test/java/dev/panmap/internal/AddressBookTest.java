package dev.panmap.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The book's arithmetic alone: merging, splitting, gaps, kinds, first fit. */
class AddressBookTest {
    private static List<List<Long>> ranges(AddressBook book) {
        return book.reservedRanges().stream().map(r -> List.of(r[0], r[1], r[2])).toList();
    }

    @Test
    void neighboursOfOneKindMergeAndATakenPartSplits() {
        AddressBook book = new AddressBook();
        book.reserve(100, 200, false);
        book.reserve(300, 400, false);
        book.reserve(200, 300, false); // fills the hole: one range
        assertThat(ranges(book)).containsExactly(List.of(100L, 400L, 0L));
        book.unreserve(150, 250);
        assertThat(ranges(book)).containsExactly(List.of(100L, 150L, 0L), List.of(250L, 400L, 0L));
        assertThat(book.gaps(120, 300)).containsExactly(new long[] {150, 250});
        assertThat(book.gaps(50, 450)).containsExactly(new long[] {50, 100}, new long[] {150, 250}, new long[] {400, 450});
        assertThat(book.isReserved(250, 400)).isTrue();
        assertThat(book.isReserved(240, 400)).isFalse();
    }

    @Test
    void kindsDoNotMergeAndPlacedAnywhereReusesOnlyItsOwnKind() {
        AddressBook book = new AddressBook();
        book.reserve(0x1000, 0x5000, false); // a DIRECT base's reservation
        book.reserve(0x5000, 0x9000, true);  // an OFFSET region's, right after it
        assertThat(ranges(book)).containsExactly(List.of(0x1000L, 0x5000L, 0L), List.of(0x5000L, 0x9000L, 1L));
        assertThat(book.fitAnywhere(0x4000)).isEqualTo(0x5000);
        assertThat(book.fitAnywhere(0x5000)).as("the DIRECT base's reservation is never handed out for anywhere").isZero();
        book.unreserve(0x5000, 0x6000); // an OFFSET mapping took the front of it
        assertThat(ranges(book)).containsExactly(List.of(0x1000L, 0x5000L, 0L), List.of(0x6000L, 0x9000L, 1L));
        assertThat(book.fitAnywhere(0x3000)).isEqualTo(0x6000);
        book.unreserve(0x4000, 0x7000); // a fixed mapping may take any kind: both split, each keeps its kind
        assertThat(ranges(book)).containsExactly(List.of(0x1000L, 0x4000L, 0L), List.of(0x7000L, 0x9000L, 1L));
    }

    @Test
    void liveMappingsAreFoundByOverlapAndRemovedByStart() {
        AddressBook book = new AddressBook();
        book.addLive(0x10000, 0x20000, "shm \"/a\"", false, null);
        assertThat(book.liveOverlapping(0x1f000, 0x30000)).extracting(AddressBook.Live::what).isEqualTo("shm \"/a\"");
        assertThat(book.liveOverlapping(0x20000, 0x30000)).isNull();
        assertThat(book.liveOverlapping(0x0, 0x10000)).isNull();
        assertThat(book.removeLive(0x10000)).extracting(AddressBook.Live::end).isEqualTo(0x20000L);
        assertThat(book.liveOverlapping(0x10000, 0x20000)).isNull();
    }
}
