package dev.panmap.bench;

import static dev.panmap.bench.Mapped.LONG;

import dev.panmap.WriterLock;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.ReferenceChecking;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.*;

/**
 * Pointer chasing: a {@link NodeList} of 64-byte nodes linked in random order, {@code size} bytes of
 * nodes, followed {@value #STEPS} hops per invocation from where the last one stopped (wrapping at
 * the end), so ns/op is ns per hop at every size. panmap-direct-unchecked follows the same list in
 * the same region through a second handle attached with {@link ReferenceChecking#UNCHECKED}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ListBench {
    static final int STEPS = 4096;
    static final int NODE = 64;

    @Param({"262144"})
    public long size;
    @Param({"panmap-direct", "panmap-direct-unchecked", "panmap-offset", "jdk-segment", "mapped-buffer", "agrona"})
    public String impl;

    private Mapped mapped;
    private Impl kind;
    private NodeList directList;
    private NodeList uncheckedList;
    private NodeList offsetList;
    private MemorySegment jdk;
    private ByteBuffer buffer;
    private UnsafeBuffer agrona;
    private long peerBase;
    private long first;
    private long cursor;

    @Setup(Level.Trial)
    public void setup() {
        kind = Impl.of(impl);
        int nodes = (int) (size / NODE);
        mapped = new Mapped(size + (1 << 20));
        directList = NodeList.create(mapped.heap, NODE);
        long[] refs = new long[nodes];
        for (int i = 0; i < nodes; i++) {
            refs[i] = directList.newNode(i);
        }
        shuffle(refs, new Random(1));
        try (WriterLock.Held held = mapped.direct.writerLock().hold()) {
            for (long ref : refs) {
                directList.append(ref);
            }
        }
        uncheckedList = NodeList.attach(mapped.direct, directList.root(), ReferenceChecking.UNCHECKED);
        offsetList = NodeList.attach(mapped.offset, directList.root());
        jdk = mapped.jdk;
        buffer = mapped.buffer;
        agrona = mapped.agrona;
        peerBase = mapped.peerBase;
        first = directList.first();
        cursor = first;
        cursor = chase(nodes); // a full lap comes back (only this variant runs in this JVM: no profile pollution)
        if (cursor != first || directList.size() != nodes) {
            throw new IllegalStateException(kind + " does not follow the list right");
        }
    }

    static void shuffle(long[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mapped.close();
    }

    @Benchmark
    @OperationsPerInvocation(STEPS)
    public long chase() {
        long n = chase(STEPS);
        cursor = n;
        return n;
    }

    private long chase(int steps) {
        return switch (kind) {
            case PANMAP_DIRECT -> directList.advance(cursor, steps);
            case PANMAP_DIRECT_UNCHECKED -> uncheckedList.advance(cursor, steps);
            case PANMAP_OFFSET -> offsetList.advance(cursor, steps);
            case JDK_SEGMENT -> chaseSegment(jdk, peerBase, cursor, first, steps);
            case MAPPED_BUFFER -> chaseBuffer(buffer, peerBase, cursor, first, steps);
            case AGRONA -> chaseAgrona(agrona, peerBase, cursor, first, steps);
        };
    }

    static long chaseSegment(MemorySegment s, long base, long n, long first, int steps) {
        for (int i = 0; i < steps; i++) {
            n = s.get(LONG, n - base);
            if (n == 0) {
                n = first;
            }
        }
        return n;
    }

    static long chaseBuffer(ByteBuffer b, long base, long n, long first, int steps) {
        for (int i = 0; i < steps; i++) {
            n = b.getLong((int) (n - base));
            if (n == 0) {
                n = first;
            }
        }
        return n;
    }

    static long chaseAgrona(UnsafeBuffer b, long base, long n, long first, int steps) {
        for (int i = 0; i < steps; i++) {
            n = b.getLong((int) (n - base));
            if (n == 0) {
                n = first;
            }
        }
        return n;
    }
}
