package dev.panmap.structures;

import dev.panmap.References;
import dev.panmap.SharedRegion;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * How the structures reach a region: writes always go through the region's bounded segment by data
 * offset; hot read loops come in two forms, chosen once per operation by {@link #direct}.
 *
 * <p><b>DIRECT</b> (a DIRECT region mapped at its base in this process): a stored reference is the
 * absolute address, read through {@link #ALL}, a {@code static final} segment of the whole address
 * space. Its base is the constant 0, so C2 emits one {@code mov (reg)} per hop, as C does.
 * <b>Offset</b> (OFFSET regions, and DIRECT regions mapped elsewhere under the offset fallback): the
 * reference minus {@link #refBase} is a data offset into the region's segment: one add on the load
 * chain plus a bounds check off it. Held in a field, the same {@code ALL} segment would not be
 * constant and would cost the add anyway, which is why the loops are written twice and not once.
 *
 * <p>The price of the DIRECT form: {@code ALL} is not bounded to the region and not tied to its
 * lifetime. Every operation checks that the region is open when it starts. A thread still inside an
 * operation when another thread closes the region reads zeros, not unmapped memory: a closed DIRECT
 * region leaves a read-only zero reservation at its base ({@code Platform.retire}), and every loop
 * here takes a zero reference for "null" and a zero key for "empty", so the operation ends and the
 * next one throws {@link IllegalStateException}. A corrupt reference (one pointing outside the
 * region) is still a fault, as in C, where the offset form throws.
 */
final class Access {
    @SuppressWarnings("restricted")
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final VarHandle LONG_HANDLE = LONG.varHandle();
    static final VarHandle INT_HANDLE = INT.varHandle();

    final SharedRegion region;
    final MemorySegment data;
    final References references;
    /** Stored references are absolute addresses valid in this process. */
    final boolean direct;
    /** {@code ref - refBase} is the data offset a reference points at. */
    final long refBase;

    Access(SharedRegion region) {
        this.region = region;
        this.data = region.segment();
        this.references = region.references();
        this.direct = references.isDirect();
        this.refBase = references.toRef(0);
    }

    /** Checks that the region is still open (every public operation calls it first). */
    MemorySegment open() {
        return region.segment();
    }

    long ref(long dataOffset) {
        return refBase + dataOffset;
    }

    long offset(long ref) {
        return ref - refBase;
    }

    /** A long at {@code field} of the place {@code ref} points at (not for hot loops). */
    long get(long ref, long field) {
        return direct ? ALL.get(LONG, ref + field) : data.get(LONG, ref - refBase + field);
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
