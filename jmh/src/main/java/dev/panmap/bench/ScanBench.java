package dev.panmap.bench;

import static dev.panmap.bench.Mapped.ALL;
import static dev.panmap.bench.Mapped.LONG;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.*;

/**
 * Sequential scan: the sum of {@value #WORDS} consecutive longs (32 KiB) per invocation, the window
 * moving on through {@code size} bytes of the region and wrapping; ns/op is ns per 8-byte word.
 * panmap-direct reads by absolute address through a constant-base segment, panmap-offset through
 * the region's own segment.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ScanBench {
    static final int WORDS = 4096;
    static final long WINDOW = WORDS * 8L;

    @Param({"262144"})
    public long size;
    @Param({"panmap-direct", "panmap-offset", "jdk-segment", "mapped-buffer", "agrona"})
    public String impl;

    private Mapped mapped;
    private Impl kind;
    private long address;
    private MemorySegment region;
    private MemorySegment jdk;
    private ByteBuffer buffer;
    private UnsafeBuffer agrona;
    private long start;
    private long cursor;

    @Setup(Level.Trial)
    public void setup() {
        kind = Impl.of(impl);
        if (kind == Impl.PANMAP_DIRECT_UNCHECKED) {
            throw new IllegalArgumentException(impl + ": a scan follows no stored references, there is nothing to check");
        }
        if (size % WINDOW != 0) {
            throw new IllegalArgumentException("size must be a multiple of " + WINDOW);
        }
        mapped = new Mapped(size);
        MemorySegment data = mapped.direct.segment();
        for (long i = 0; i < size / 8; i++) {
            data.setAtIndex(LONG, i, i);
        }
        address = mapped.direct.address(0);
        region = mapped.offset.segment();
        jdk = mapped.jdk;
        buffer = mapped.buffer;
        agrona = mapped.agrona;
        start = mapped.dataStart;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mapped.close();
    }

    @Benchmark
    @OperationsPerInvocation(WORDS)
    public long scan() {
        long c = cursor;
        long sum = 0;
        switch (kind) {
            case PANMAP_DIRECT -> {
                long a = address + c;
                for (int i = 0; i < WORDS; i++) {
                    sum += ALL.get(LONG, a + 8L * i);
                }
            }
            case PANMAP_OFFSET -> {
                MemorySegment s = region;
                for (int i = 0; i < WORDS; i++) {
                    sum += s.get(LONG, c + 8L * i);
                }
            }
            case JDK_SEGMENT -> {
                MemorySegment s = jdk;
                long o = start + c;
                for (int i = 0; i < WORDS; i++) {
                    sum += s.get(LONG, o + 8L * i);
                }
            }
            case MAPPED_BUFFER -> {
                ByteBuffer b = buffer;
                int o = (int) (start + c);
                for (int i = 0; i < WORDS; i++) {
                    sum += b.getLong(o + 8 * i);
                }
            }
            case AGRONA -> {
                UnsafeBuffer b = agrona;
                int o = (int) (start + c);
                for (int i = 0; i < WORDS; i++) {
                    sum += b.getLong(o + 8 * i);
                }
            }
        }
        c += WINDOW;
        cursor = c == size ? 0 : c;
        return sum;
    }
}
