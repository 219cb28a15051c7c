package dev.panmap.internal;

import static dev.panmap.internal.RegionLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Typed, ordered access to a mapped region header laid out by {@link RegionLayout}. Plain reads for
 * immutable fields; acquire/release and compare-and-set for the words that change while shared.
 */
public final class Header {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment segment;

    public Header(MemorySegment segment) {
        this.segment = segment;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long magicAcquire() {
        return (long) LONG.getAcquire(segment, (long) MAGIC_OFFSET);
    }

    public void publishMagicRelease() {
        LONG.setRelease(segment, (long) MAGIC_OFFSET, MAGIC);
    }

    public int getInt(long offset) {
        return segment.get(ValueLayout.JAVA_INT, offset);
    }

    public long getLong(long offset) {
        return segment.get(ValueLayout.JAVA_LONG, offset);
    }

    public void putInt(long offset, int value) {
        segment.set(ValueLayout.JAVA_INT, offset, value);
    }

    public void putLong(long offset, long value) {
        segment.set(ValueLayout.JAVA_LONG, offset, value);
    }

    public int getIntAcquire(long offset) {
        return (int) INT.getAcquire(segment, offset);
    }

    public long getLongAcquire(long offset) {
        return (long) LONG.getAcquire(segment, offset);
    }

    public void putIntRelease(long offset, int value) {
        INT.setRelease(segment, offset, value);
    }

    public void putLongRelease(long offset, long value) {
        LONG.setRelease(segment, offset, value);
    }

    public int getIntVolatile(long offset) {
        return (int) INT.getVolatile(segment, offset);
    }

    public long getLongVolatile(long offset) {
        return (long) LONG.getVolatile(segment, offset);
    }

    public boolean compareAndSetInt(long offset, int expected, int value) {
        return INT.compareAndSet(segment, offset, expected, value);
    }

    public boolean compareAndSetLong(long offset, long expected, long value) {
        return LONG.compareAndSet(segment, offset, expected, value);
    }

    public long getAndAddLong(long offset, long delta) {
        return (long) LONG.getAndAdd(segment, offset, delta);
    }

    /** A region's growth as one reader saw it: the generation, and a current size at least that generation's. */
    public record Growth(long generation, long size) {}

    /**
     * Publishes a grow (under the writer lock, after the new part is backed and mapped by the grower):
     * the current size, then the generation, each a release store. A reader that sees the new
     * generation ({@link #growthAcquire}) sees the new size: a process never takes a generation it has
     * not mapped the size of, which would leave it behind for good.
     */
    public void publishGrowth(long size, long generation) {
        putLongRelease(CURRENT_SIZE_OFFSET, size);
        TestPoints.hit("grow.betweenStores");
        putLongRelease(GENERATION_OFFSET, generation);
    }

    /**
     * {@return the generation, then the current size, each an acquire load}: the pairing of
     * {@link #publishGrowth}. The size may be newer than the generation (a grow between the loads),
     * never older; a process that maps this size and records this generation maps the next grow on
     * its next look.
     */
    public Growth growthAcquire() {
        long generation = getLongAcquire(GENERATION_OFFSET);
        return new Growth(generation, getLongAcquire(CURRENT_SIZE_OFFSET));
    }
}
