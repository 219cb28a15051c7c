package dev.panmap.bench;

import static dev.panmap.bench.Mapped.LONG;

import dev.panmap.WriterLock;
import dev.panmap.structures.HashIndex;
import dev.panmap.structures.StructureLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.*;

/**
 * Hash lookups in a {@link HashIndex} whose slot table is {@code size} bytes, half full: keys
 * {@code i * K} for {@code i} in [1, n]; a hit looks up a random one of them, a miss a random
 * {@code i} in (n, 2n]. {@value #LOOKUPS} independent lookups per invocation. Every variant reads
 * as {@link HashIndex} does, safe beside a concurrent writer: the key, an acquire fence, the value.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HashBench {
    static final int LOOKUPS = 1024;
    static final long K = 0x9E3779B97F4A7C15L;

    @Param({"262144"})
    public long size;
    @Param({"panmap-direct", "panmap-offset", "jdk-segment", "mapped-buffer", "agrona"})
    public String impl;

    private Mapped mapped;
    private Impl kind;
    private HashIndex directIndex;
    private HashIndex offsetIndex;
    private MemorySegment jdk;
    private ByteBuffer buffer;
    private UnsafeBuffer agrona;
    private long table;
    private long mask;
    private long keys;
    private long random = 0x1234_5678_9ABC_DEFL;

    @Setup(Level.Trial)
    public void setup() {
        kind = Impl.of(impl);
        if (kind == Impl.PANMAP_DIRECT_UNCHECKED) {
            throw new IllegalArgumentException(impl + ": HashIndex follows no stored references in its lookups, it has no unchecked form");
        }
        long slots = size / StructureLayout.Hash.SLOT_SIZE;
        keys = slots / 2;
        mapped = new Mapped(size + (1 << 20));
        directIndex = HashIndex.create(mapped.heap, keys);
        if (directIndex.capacity() != slots) {
            throw new IllegalStateException("capacity " + directIndex.capacity() + ", wanted " + slots);
        }
        try (WriterLock.Held held = mapped.direct.writerLock().hold()) {
            for (long i = 1; i <= keys; i++) {
                directIndex.put(i * K, i, -1);
            }
        }
        offsetIndex = HashIndex.attach(mapped.offset, directIndex.root());
        jdk = mapped.jdk;
        buffer = mapped.buffer;
        agrona = mapped.agrona;
        table = directIndex.tableReference() - mapped.peerBase;
        mask = slots - 1;
        // the variant finds the keys it should and no other (only this one runs in this JVM: no profile pollution)
        if (lookupSome(kind, 1) != LOOKUPS * (LOOKUPS + 1L) / 2 || lookupSome(kind, keys + 1) != -LOOKUPS) {
            throw new IllegalStateException(kind + " does not read the index right");
        }
    }

    private long lookupSome(Impl i, long from) { // LOOKUPS keys from index 'from': hits sum to their indices, misses to -1 each
        long sum = 0;
        for (long j = from; j < from + LOOKUPS; j++) {
            sum += get(i, j * K);
        }
        return sum;
    }

    private long get(Impl i, long key) {
        return switch (i) {
            case PANMAP_DIRECT -> directIndex.get(key, -1);
            case PANMAP_OFFSET -> offsetIndex.get(key, -1);
            case PANMAP_DIRECT_UNCHECKED -> throw new IllegalArgumentException(i.label); // refused in setup
            case JDK_SEGMENT -> getSegment(jdk, table, mask, key);
            case MAPPED_BUFFER -> getBuffer(buffer, table, mask, key);
            case AGRONA -> getAgrona(agrona, table, mask, key);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mapped.close();
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long hit() {
        return lookups(1);
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long miss() {
        return lookups(keys + 1);
    }

    private long lookups(long from) {
        long r = random;
        long sum = 0;
        long m = keys - 1;
        switch (kind) {
            case PANMAP_DIRECT -> {
                HashIndex index = directIndex;
                for (int i = 0; i < LOOKUPS; i++) {
                    r = Mapped.next(r);
                    sum += index.get(((r & m) + from) * K, -1);
                }
            }
            case PANMAP_OFFSET -> {
                HashIndex index = offsetIndex;
                for (int i = 0; i < LOOKUPS; i++) {
                    r = Mapped.next(r);
                    sum += index.get(((r & m) + from) * K, -1);
                }
            }
            case JDK_SEGMENT -> {
                for (int i = 0; i < LOOKUPS; i++) {
                    r = Mapped.next(r);
                    sum += getSegment(jdk, table, mask, ((r & m) + from) * K);
                }
            }
            case MAPPED_BUFFER -> {
                for (int i = 0; i < LOOKUPS; i++) {
                    r = Mapped.next(r);
                    sum += getBuffer(buffer, table, mask, ((r & m) + from) * K);
                }
            }
            case AGRONA -> {
                for (int i = 0; i < LOOKUPS; i++) {
                    r = Mapped.next(r);
                    sum += getAgrona(agrona, table, mask, ((r & m) + from) * K);
                }
            }
        }
        random = r;
        return sum;
    }

    static long getSegment(MemorySegment s, long table, long mask, long key) {
        for (long i = HashIndex.hash(key) & mask; ; i = (i + 1) & mask) {
            long slot = table + i * 16;
            long k = s.get(LONG, slot);
            if (k == key) {
                VarHandle.acquireFence(); // the same reader protocol as HashIndex: key, fence, value
                return s.get(LONG, slot + 8);
            }
            if (k == 0) {
                return -1;
            }
        }
    }

    static long getBuffer(ByteBuffer b, long table, long mask, long key) {
        for (long i = HashIndex.hash(key) & mask; ; i = (i + 1) & mask) {
            int slot = (int) (table + i * 16);
            long k = b.getLong(slot);
            if (k == key) {
                VarHandle.acquireFence(); // the same reader protocol as HashIndex: key, fence, value
                return b.getLong(slot + 8);
            }
            if (k == 0) {
                return -1;
            }
        }
    }

    static long getAgrona(UnsafeBuffer b, long table, long mask, long key) {
        for (long i = HashIndex.hash(key) & mask; ; i = (i + 1) & mask) {
            int slot = (int) (table + i * 16);
            long k = b.getLong(slot);
            if (k == key) {
                VarHandle.acquireFence(); // the same reader protocol as HashIndex: key, fence, value
                return b.getLong(slot + 8);
            }
            if (k == 0) {
                return -1;
            }
        }
    }
}
