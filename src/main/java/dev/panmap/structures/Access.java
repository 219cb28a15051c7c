package dev.panmap.structures;

import dev.panmap.ErrorKind;
import dev.panmap.References;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * How the structures reach a region: writes and single reads go through the region's bounded
 * segment by data offset; hot read loops read through {@link #ALL}, a {@code static final} segment of
 * the whole address space, at {@code ref + delta}.
 *
 * <p><b>DIRECT</b> (a DIRECT region mapped at its base in this process): a stored reference is the
 * absolute address, {@code delta} is 0, and the loops are called with the constant 0 so that C2
 * folds it: one {@code mov (reg)} per hop, as C does. <b>Offset</b> (OFFSET regions, and DIRECT
 * regions mapped elsewhere under the offset fallback): {@code delta} is where the region is mapped
 * here minus where its references count from, so a hop is {@code lea (delta, ref); mov}: one add on
 * the load chain and nothing else. (A C compiler folds that add into the load's base+index
 * addressing; C2 cannot for an off-heap address, which it builds as a {@code long} before the load:
 * the disassembly is in the benchmark report.) A bounded segment would put its own subtract, bounds
 * and alignment checks between each load and the next (the JDK's {@code MemorySegment.get} on a
 * mapped segment does); here the checks below branch beside the chain instead.
 *
 * <h2>What keeps these reads from crashing</h2>
 * {@code ALL} is neither bounded to the region nor tied to its lifetime, so three things stand in:
 * <ol>
 * <li><b>Every reference is checked</b> before it is followed: {@link #inside} is one rotate and one
 *     unsigned compare that reject anything that is not an 8-aligned reference to a whole node inside
 *     the data area. The load itself uses the reference as it is, so the check is a predicted branch
 *     beside the load chain. A bad reference, written by a bug or by any process with write access,
 *     is a {@link ErrorKind#CORRUPT_REGION} exception naming it; a bad reference passed by the caller
 *     is an {@link IllegalArgumentException}. DIRECT regions may drop the check
 *     ({@link ReferenceChecking#UNCHECKED}: C's contract, crashes included); offset reads always check.</li>
 * <li><b>The range stays mapped</b> (POSIX; on Windows, {@link #SCOPED}). Once a region has been mapped in this process, something readable
 *     stays at its addresses for the life of the process: the region, the zero reservation its close
 *     leaves, or a later region that reuses the reservation ({@code Platform.unmap},
 *     {@code AddressBook}). So a checked read by a thread that races with {@code close()} — also with
 *     a close followed by a new region at the same addresses — reads zeros or the new region's bytes,
 *     never unmapped memory. Every loop takes a zero reference for "null", and counts its hops
 *     against the most nodes the data area can hold, so garbage cannot make it spin forever.</li>
 * <li><b>Nothing read after a close is returned.</b> Every operation checks that the region is open
 *     before it starts and again, after a load-load fence, before it returns ({@link #confirm}): a
 *     close that happened in between throws {@link IllegalStateException} instead. The close marks
 *     the region closed before its system call changes the page tables, and a read can only see the
 *     zero reservation or a later region's bytes after that change, so the second check sees the
 *     close whenever the loop read anything that was not the region's own.</li>
 * </ol>
 */
final class Access {
    @SuppressWarnings("restricted")
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    /**
     * Whether the read loops read through the region's scoped segment instead of {@link #ALL}: where a
     * close does not keep the range readable ({@code Platform.closeKeepsRangeReadable()}, false on
     * Windows, where {@code UnmapViewOfFile} gives the range back at once), so that a read racing with
     * a close meets the closed arena ({@link IllegalStateException}) and never unmapped memory. A
     * constant: on Linux C2 folds the other branch away. Costs a bounds and liveness check per load.
     */
    static final boolean SCOPED = scopedReads();
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    /** For reads through {@link #ALL}: {@link #inside} has checked the alignment already. */
    static final ValueLayout.OfLong ANY_LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final VarHandle LONG_HANDLE = LONG.varHandle();
    static final VarHandle INT_HANDLE = INT.varHandle();

    private static boolean scopedReads() {
        try {
            return dev.panmap.internal.Platforms.isSupported() && !dev.panmap.internal.Platforms.current().closeKeepsRangeReadable();
        } catch (RuntimeException e) { // no native access: no region can exist either
            return false;
        }
    }

    final SharedRegion region;
    final MemorySegment data;
    final References references;
    /** Stored references are absolute addresses valid in this process. */
    final boolean direct;
    /** Whether DIRECT loops check every reference before following it. */
    final boolean checked;
    /** {@code ref - refBase} is the data offset a reference points at (DIRECT: the data area's address). */
    final long refBase;
    /** The data area's size, the bound of every check. */
    final long dataSize;
    /** A reference's place is at {@code ref + delta} in this process: 0 for DIRECT, the mapping's distance otherwise. */
    final long delta;

    Access(SharedRegion region, ReferenceChecking checking) {
        this.region = region;
        this.data = region.segment();
        this.references = region.references();
        this.direct = references.isDirect();
        this.checked = checking == ReferenceChecking.CHECKED;
        this.refBase = references.toRef(0);
        this.dataSize = data.byteSize();
        this.delta = references.address(0);
    }

    /**
     * {@return the bound {@link #inside} compares with for places of {@code footprint} bytes}: the
     * largest valid {@code (ref - refBase) / 8}.
     */
    long limit(long footprint) {
        if (footprint > dataSize) { // a negative bound would read as a huge unsigned one
            throw new RegionException(ErrorKind.CORRUPT_REGION, region.name() + ": a " + footprint
                + "-byte node cannot fit the " + dataSize + "-byte data area");
        }
        return (dataSize - footprint) >>> 3;
    }

    /**
     * {@return whether {@code ref} is an 8-aligned reference to {@code footprint} bytes inside the data
     * area}, with {@code limit} from {@link #limit}: {@code ref - lo} rotated right by 3 moves any
     * misalignment into the top bits, so one unsigned compare checks alignment, lower and upper
     * bound at once. {@link References#NULL} is never inside.
     */
    static boolean inside(long ref, long lo, long limit) {
        return Long.compareUnsigned(Long.rotateRight(ref - lo, 3), limit) <= 0;
    }

    /** Checks that the region is still open when an operation starts; {@return the data segment} */
    MemorySegment open() {
        return region.segment();
    }

    /**
     * Ends a DIRECT operation: if the region was closed while it read through {@link #ALL}, what it
     * read may be zeros or another region's bytes, so it throws instead of returning it.
     */
    void confirm() {
        VarHandle.loadLoadFence(); // every load of the operation before the look at the flag
        if (!region.isUsable()) {
            region.segment(); // throws the region's IllegalStateException (closed) or RegionException (truncated)
        }
    }

    long ref(long dataOffset) {
        return refBase + dataOffset;
    }

    long offset(long ref) {
        return ref - refBase;
    }

    /** {@return the data offset of a reference the caller passed} @throws IllegalArgumentException if it is not one */
    long argument(long ref, long footprint, String what) {
        if (!inside(ref, refBase, limit(footprint))) {
            throw new IllegalArgumentException(describe(ref, footprint, what + " is not a reference into " + region.name()));
        }
        return ref - refBase;
    }

    /** The exception for a bad stored reference (kept out of the hot loops, which only call it). */
    RegionException corrupt(long ref, long footprint, String where) {
        return new RegionException(ErrorKind.CORRUPT_REGION, describe(ref, footprint, region.name() + " is damaged: " + where + " holds"));
    }

    RegionException cycle(String where, long hops) {
        return new RegionException(ErrorKind.CORRUPT_REGION, region.name() + " is damaged: " + where + " goes on for more than "
            + hops + " nodes, more than the data area holds (a cycle)");
    }

    private String describe(long ref, long footprint, String what) {
        return what + " 0x" + Long.toHexString(ref) + ", which is not an 8-aligned reference to " + footprint
            + " bytes inside the data area (references " + (direct ? "0x" + Long.toHexString(refBase) : Long.toString(refBase))
            + " to " + (direct ? "0x" + Long.toHexString(refBase + dataSize - footprint) : Long.toString(refBase + dataSize - footprint)) + ")";
    }

    void set(long ref, long field, long value) {
        data.set(LONG, ref - refBase + field, value);
    }

    void setRelease(long ref, long field, long value) {
        LONG_HANDLE.setRelease(data, ref - refBase + field, value);
    }

    /** Writers must hold the region's writer lock. */
    void checkWriter(String what) {
        if (!region.writerLock().isHeldByCurrentThread()) {
            throw new IllegalStateException(what + " changes a shared structure: hold region.writerLock() ("
                + region.name() + ") around it");
        }
    }
}
