package dev.panmap.bench;

import static dev.panmap.bench.Mapped.LONG;
import static dev.panmap.structures.StructureLayout.Skip.*;

import dev.panmap.WriterLock;
import dev.panmap.structures.ReferenceChecking;
import dev.panmap.structures.SkipList;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.*;

/**
 * Ordered lookups: {@code floorKey} of random keys in a {@link SkipList} of about {@code size}
 * bytes of nodes (keys {@code 16 i}, inserted in random order, so neighbours in key order are far
 * apart in memory); a query {@code 16 i + 5} finds {@code 16 i}. {@value #LOOKUPS} per invocation.
 * panmap-direct-unchecked searches the same skip list in the same region through a second handle
 * attached with {@link ReferenceChecking#UNCHECKED}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SkipBench {
    static final int LOOKUPS = 256;
    /** Average bytes per node: 24 + 8 x (4/3 levels), rounded to 8. */
    static final int AVERAGE_NODE = 40;

    @Param({"262144"})
    public long size;
    @Param({"panmap-direct", "panmap-direct-unchecked", "panmap-offset", "jdk-segment", "mapped-buffer", "agrona"})
    public String impl;

    private Mapped mapped;
    private Impl kind;
    private SkipList directList;
    private SkipList uncheckedList;
    private SkipList offsetList;
    private MemorySegment jdk;
    private ByteBuffer buffer;
    private UnsafeBuffer agrona;
    private long peerBase;
    private long head;
    private long topAt;
    private long mask;
    private long random = 0x1234_5678_9ABC_DEFL;

    @Setup(Level.Trial)
    public void setup() {
        kind = Impl.of(impl);
        long n = Long.highestOneBit(size / AVERAGE_NODE);
        mapped = new Mapped(size * 2 + (1 << 20));
        directList = SkipList.create(mapped.heap);
        long[] keys = new long[(int) n];
        for (int i = 0; i < n; i++) {
            keys[i] = 16L * i;
        }
        ListBench.shuffle(keys, new Random(2));
        try (WriterLock.Held held = mapped.direct.writerLock().hold()) {
            for (long key : keys) {
                directList.put(key, key, -1);
            }
        }
        uncheckedList = SkipList.attach(mapped.direct, directList.root(), ReferenceChecking.UNCHECKED);
        offsetList = SkipList.attach(mapped.offset, directList.root());
        jdk = mapped.jdk;
        buffer = mapped.buffer;
        agrona = mapped.agrona;
        peerBase = mapped.peerBase;
        long root = mapped.dataStart + directList.root();
        head = jdk.get(LONG, root + HEAD_OFFSET);
        topAt = root + TOP_LEVEL_OFFSET;
        mask = n - 1;
        for (long q = 0; q < Math.min(n, 4096); q++) { // only this variant runs in this JVM: no profile pollution
            if (floor(kind, 16 * q + 5) != 16 * q) {
                throw new IllegalStateException(kind + " does not read the skip list right at " + q);
            }
        }
    }

    private long floor(Impl i, long key) {
        return switch (i) {
            case PANMAP_DIRECT -> directList.floorKey(key, -1);
            case PANMAP_DIRECT_UNCHECKED -> uncheckedList.floorKey(key, -1);
            case PANMAP_OFFSET -> offsetList.floorKey(key, -1);
            case JDK_SEGMENT -> floorSegment(jdk, peerBase, head, jdk.get(ValueLayoutInt.INT, topAt), key);
            case MAPPED_BUFFER -> floorBuffer(buffer, peerBase, head, buffer.getInt((int) topAt), key);
            case AGRONA -> floorAgrona(agrona, peerBase, head, agrona.getIntVolatile((int) topAt), key);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mapped.close();
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long floor() {
        long r = random;
        long sum = 0;
        long m = mask;
        switch (kind) {
            case PANMAP_DIRECT -> {
                SkipList l = directList;
                for (int i = 0; i < LOOKUPS; i++) {
                    r = Mapped.next(r);
                    sum += l.floorKey(16 * (r & m) + 5, -1);
                }
            }
            case PANMAP_DIRECT_UNCHECKED -> {
                SkipList l = uncheckedList;
                for (int i = 0; i < LOOKUPS; i++) {
                    r = Mapped.next(r);
                    sum += l.floorKey(16 * (r & m) + 5, -1);
                }
            }
            case PANMAP_OFFSET -> {
                SkipList l = offsetList;
                for (int i = 0; i < LOOKUPS; i++) {
                    r = Mapped.next(r);
                    sum += l.floorKey(16 * (r & m) + 5, -1);
                }
            }
            case JDK_SEGMENT -> {
                for (int i = 0; i < LOOKUPS; i++) { // the top level read per lookup, with acquire, as panmap does
                    int top = jdk.get(ValueLayoutInt.INT, topAt);
                    java.lang.invoke.VarHandle.acquireFence();
                    r = Mapped.next(r);
                    sum += floorSegment(jdk, peerBase, head, top, 16 * (r & m) + 5);
                }
            }
            case MAPPED_BUFFER -> {
                for (int i = 0; i < LOOKUPS; i++) { // the top level read per lookup, with acquire, as panmap does
                    int top = buffer.getInt((int) topAt);
                    java.lang.invoke.VarHandle.acquireFence();
                    r = Mapped.next(r);
                    sum += floorBuffer(buffer, peerBase, head, top, 16 * (r & m) + 5);
                }
            }
            case AGRONA -> {
                for (int i = 0; i < LOOKUPS; i++) { // the top level read per lookup, with acquire, as panmap does
                    int top = agrona.getIntVolatile((int) topAt);
                    java.lang.invoke.VarHandle.acquireFence();
                    r = Mapped.next(r);
                    sum += floorAgrona(agrona, peerBase, head, top, 16 * (r & m) + 5);
                }
            }
        }
        random = r;
        return sum;
    }

    static long floorSegment(MemorySegment s, long base, long head, int top, long key) {
        long x = head;
        for (int i = top - 1; i >= 0; i--) {
            long link = NODE_NEXT_OFFSET + 8L * i - base;
            for (long n = s.get(LONG, x + link); n != 0; n = s.get(LONG, x + link)) {
                if (s.get(LONG, n - base + NODE_KEY_OFFSET) > key) {
                    break;
                }
                x = n;
            }
        }
        return x == head ? -1 : s.get(LONG, x - base + NODE_KEY_OFFSET);
    }

    static long floorBuffer(ByteBuffer b, long base, long head, int top, long key) {
        long x = head;
        for (int i = top - 1; i >= 0; i--) {
            long link = NODE_NEXT_OFFSET + 8L * i - base;
            for (long n = b.getLong((int) (x + link)); n != 0; n = b.getLong((int) (x + link))) {
                if (b.getLong((int) (n - base + NODE_KEY_OFFSET)) > key) {
                    break;
                }
                x = n;
            }
        }
        return x == head ? -1 : b.getLong((int) (x - base + NODE_KEY_OFFSET));
    }

    static long floorAgrona(UnsafeBuffer b, long base, long head, int top, long key) {
        long x = head;
        for (int i = top - 1; i >= 0; i--) {
            long link = NODE_NEXT_OFFSET + 8L * i - base;
            for (long n = b.getLong((int) (x + link)); n != 0; n = b.getLong((int) (x + link))) {
                if (b.getLong((int) (n - base + NODE_KEY_OFFSET)) > key) {
                    break;
                }
                x = n;
            }
        }
        return x == head ? -1 : b.getLong((int) (x - base + NODE_KEY_OFFSET));
    }

    /** The int layout, by a name that does not clash with the skip list's constants. */
    private static final class ValueLayoutInt {
        static final java.lang.foreign.ValueLayout.OfInt INT = java.lang.foreign.ValueLayout.JAVA_INT;
    }
}
