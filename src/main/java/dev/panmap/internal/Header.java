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
}
