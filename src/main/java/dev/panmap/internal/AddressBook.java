package dev.panmap.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * This process's book of the address ranges panmap holds for DIRECT regions: the ranges where a
 * region is mapped now ({@linkplain #live live}) and the ranges panmap keeps reserved after a close
 * ({@linkplain #reserved reserved}: a read-only zero mapping that costs no memory). Ranges are
 * half-open {@code [start, end)}.
 *
 * <h2>Why panmap never gives a DIRECT range back</h2>
 * The DIRECT read paths follow absolute addresses through a segment of the whole address space, so a
 * thread can still be reading a region's range while another thread closes it. Once a range has held
 * a DIRECT region in this process, something readable stays mapped there for the life of the process:
 * the region, a zero reservation, or a later DIRECT region mapped over the reservation. A checked
 * read (an address inside the old region's range) can therefore never fault, whatever was closed or
 * opened in between; see {@code dev.panmap.structures.Access}.
 *
 * <h2>What the book does</h2>
 * Reserved ranges are kept merged; a new fixed mapping may take any part of them (the rest stays
 * reserved on either side, split) and extend past them into free address space, which the platform
 * reserves first so that nothing else can take it in between. Any sequence of DIRECT opens and closes
 * of any sizes at bases that panmap itself holds therefore succeeds; only a live region of this
 * process or a mapping panmap did not make stands in the way, and the book tells the two apart.
 *
 * <p>Not thread-safe: the platform holds its own lock around a whole fixed-mapping operation.
 */
public final class AddressBook {
    /** A live fixed mapping: its range and what it maps, for messages. */
    public record Live(long start, long end, String what) {}

    private final TreeMap<Long, Long> reserved = new TreeMap<>(); // start -> end, disjoint, merged
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

    /** Records {@code [start, end)} as reserved, merged with its neighbours. */
    public void reserve(long start, long end) {
        if (start >= end) {
            return;
        }
        Map.Entry<Long, Long> before = reserved.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
            reserved.remove(before.getKey());
        }
        for (Map.Entry<Long, Long> next = reserved.ceilingEntry(start); next != null && next.getKey() <= end;
             next = reserved.ceilingEntry(start)) {
            end = Math.max(end, next.getValue());
            reserved.remove(next.getKey());
        }
        reserved.put(start, end);
    }

    /** Takes {@code [start, end)} out of the reserved ranges (the parts outside it stay reserved). */
    public void unreserve(long start, long end) {
        Map.Entry<Long, Long> r = reserved.lowerEntry(end);
        while (r != null && r.getValue() > start) {
            long from = r.getKey();
            long to = r.getValue();
            reserved.remove(from);
            if (to > end) {
                reserved.put(end, to);
            }
            if (from < start) {
                reserved.put(from, start);
                break;
            }
            r = reserved.lowerEntry(from);
        }
    }

    /** {@return whether all of {@code [start, end)} is reserved} */
    public boolean isReserved(long start, long end) {
        return gaps(start, end).isEmpty();
    }

    public void addLive(long start, long end, String what) {
        live.put(start, new Live(start, end, what));
    }

    /** {@return the live mapping that starts at {@code start}, removed from the book, or null} */
    public Live removeLive(long start) {
        return live.remove(start);
    }

    /** {@return the reserved ranges, merged, in address order} (for tests and tools) */
    public List<long[]> reservedRanges() {
        List<long[]> out = new ArrayList<>();
        reserved.forEach((from, to) -> out.add(new long[] {from, to}));
        return out;
    }
}
