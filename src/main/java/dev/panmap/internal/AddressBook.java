package dev.panmap.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * This process's book of the address ranges panmap holds for its regions: the ranges where a region
 * is mapped now ({@linkplain #addLive live}) and the ranges panmap keeps reserved after a close
 * ({@linkplain #reserve reserved}: a read-only zero mapping that costs no memory). Ranges are
 * half-open {@code [start, end)}. Each range is of one kind: <em>fixed</em> (mapped at a chosen
 * base: DIRECT regions) or <em>anywhere</em> (placed by the system: OFFSET regions).
 *
 * <h2>Why panmap never gives a region's range back</h2>
 * The structures' read paths follow addresses through a segment of the whole address space, so a
 * thread can still be reading a region's range while another thread closes it. Once a range has held
 * a region in this process, something readable stays mapped there for the life of the process: the
 * region, a zero reservation, or a later region mapped over the reservation. A checked read (an
 * address inside the old region's range) can therefore never fault, whatever was closed or opened in
 * between; see {@code dev.panmap.structures.Access}.
 *
 * <h2>What the book does</h2>
 * Reserved ranges are kept merged with neighbours of their kind. A fixed mapping may take any part of
 * any reservation (the rest stays reserved on either side, split) and extend past it into free
 * address space, which the platform reserves first so that nothing else can take it in between: any
 * sequence of DIRECT opens and closes of any sizes at bases that panmap itself holds succeeds, and
 * only a live region of this process or a mapping panmap did not make stands in the way (the book
 * tells the two apart). A mapping placed anywhere reuses an <em>anywhere</em> reservation that fits,
 * first fit, so the address space held stays bounded by what was open at once; it never takes a
 * DIRECT base's reservation, which stays free for its own regions.
 *
 * <p>Not thread-safe: the platform holds its own lock around a whole mapping operation.
 */
public final class AddressBook {
    /**
     * A live mapping: its range, what it maps (for messages), whether the system placed it, and whose
     * it is: the handle of the open object it maps, so that an operation on one region can never map
     * over another's range that happens to start at the same address after a close.
     */
    public record Live(long start, long end, String what, boolean placedAnywhere, Object owner) {}

    /**
     * The owner of a mapping closed but not yet given back ({@code Platform.retire}): its range holds
     * private zero pages, writable ones (a late store may have written some), and nothing may map
     * there until it is unmapped.
     */
    public static final Object RETIRED = new Object() {
        @Override
        public String toString() {
            return "closed, not yet given back";
        }
    };

    /** As {@link #RETIRED}, its zero pages read-only: the same as a reservation already. */
    public static final Object RETIRED_READ_ONLY = new Object() {
        @Override
        public String toString() {
            return "closed read-only, not yet given back";
        }
    };

    /** {@return whether a live mapping's owner is a closed mapping's mark} */
    public static boolean isRetired(Object owner) {
        return owner == RETIRED || owner == RETIRED_READ_ONLY;
    }

    private final TreeMap<Long, Long> reserved = new TreeMap<>(); // start -> end, disjoint, merged per kind
    private final java.util.TreeSet<Long> anywhere = new java.util.TreeSet<>(); // starts of reserved ranges of the anywhere kind
    private final TreeMap<Long, Live> live = new TreeMap<>();     // start -> mapping, disjoint

    /** {@return a live mapping overlapping {@code [start, end)}, or null} */
    public Live liveOverlapping(long start, long end) {
        Map.Entry<Long, Live> below = live.lowerEntry(end);
        return below != null && below.getValue().end() > start ? below.getValue() : null;
    }

    /** {@return the parts of {@code [start, end)} not reserved, in address order, as {start, end} pairs} */
    public List<long[]> gaps(long start, long end) {
        List<long[]> gaps = new ArrayList<>();
        long at = start;
        Map.Entry<Long, Long> r = reserved.floorEntry(start);
        if (r == null || r.getValue() <= start) {
            r = reserved.higherEntry(start);
        }
        while (at < end) {
            if (r == null || r.getKey() >= end) {
                gaps.add(new long[] {at, end});
                break;
            }
            if (r.getKey() > at) {
                gaps.add(new long[] {at, r.getKey()});
            }
            at = Math.max(at, r.getValue());
            r = reserved.higherEntry(r.getKey());
        }
        return gaps;
    }

    /** Records {@code [start, end)} as reserved, of the fixed kind or the anywhere kind, merged with neighbours of its kind. */
    public void reserve(long start, long end, boolean placedAnywhere) {
        if (start >= end) {
            return;
        }
        Map.Entry<Long, Long> before = reserved.lowerEntry(start);
        if (before != null && before.getValue() == start && anywhere.contains(before.getKey()) == placedAnywhere) {
            start = before.getKey();
            remove(start);
        }
        Long after = reserved.containsKey(end) && anywhere.contains(end) == placedAnywhere ? end : null;
        if (after != null) {
            end = reserved.get(after);
            remove(after);
        }
        reserved.put(start, end);
        if (placedAnywhere) {
            anywhere.add(start);
        }
    }

    private void remove(long start) {
        reserved.remove(start);
        anywhere.remove(start);
    }

    /** Takes {@code [start, end)} out of the reserved ranges (the parts outside it stay reserved, of their kind). */
    public void unreserve(long start, long end) {
        Map.Entry<Long, Long> r = reserved.lowerEntry(end);
        while (r != null && r.getValue() > start) {
            long from = r.getKey();
            long to = r.getValue();
            boolean kind = anywhere.contains(from);
            remove(from);
            if (to > end) {
                reserved.put(end, to);
                if (kind) {
                    anywhere.add(end);
                }
            }
            if (from < start) {
                reserved.put(from, start);
                if (kind) {
                    anywhere.add(from);
                }
                break;
            }
            r = reserved.lowerEntry(from);
        }
    }

    /** {@return the start of the lowest anywhere-kind reservation of at least {@code size} bytes, or 0} */
    public long fitAnywhere(long size) {
        return fitAnywhere(size, 1);
    }

    /**
     * {@return the lowest address aligned to {@code alignment} (a power of two) in an anywhere-kind
     * reservation with {@code size} bytes from there to the reservation's end, or 0} A huge-page
     * mapping needs its start on a huge page.
     */
    public long fitAnywhere(long size, long alignment) {
        for (long start : anywhere) {
            long at = (start + alignment - 1) & -alignment;
            if (reserved.get(start) - at >= size) {
                return at;
            }
        }
        return 0;
    }

    /** {@return the anywhere-kind reservations of at least {@code size} bytes, lowest first, as {start, end}} */
    public List<long[]> anywhereAtLeast(long size) {
        List<long[]> out = new ArrayList<>();
        for (long start : anywhere) {
            long end = reserved.get(start);
            if (end - start >= size) {
                out.add(new long[] {start, end});
            }
        }
        return out;
    }

    /** {@return whether all of {@code [start, end)} is reserved} */
    public boolean isReserved(long start, long end) {
        return gaps(start, end).isEmpty();
    }

    public void addLive(long start, long end, String what, boolean placedAnywhere, Object owner) {
        live.put(start, new Live(start, end, what, placedAnywhere, owner));
    }

    /** {@return the live mapping that starts at {@code start} and belongs to {@code owner}, or null} */
    public Live liveOf(long start, Object owner) {
        Live l = live.get(start);
        return l != null && l.owner() == owner ? l : null;
    }

    /** {@return the live mappings in address order} (for tests and tools) */
    public List<Live> liveMappings() {
        return new ArrayList<>(live.values());
    }

    /** {@return the live mapping that starts at {@code start}, removed from the book, or null} */
    public Live removeLive(long start) {
        return live.remove(start);
    }

    /** {@return the reserved ranges in address order, as {start, end, 1 if placed anywhere else 0}} (for tests and tools) */
    public List<long[]> reservedRanges() {
        List<long[]> out = new ArrayList<>();
        reserved.forEach((from, to) -> out.add(new long[] {from, to, anywhere.contains(from) ? 1 : 0}));
        return out;
    }
}
