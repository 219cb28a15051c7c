package dev.panmap.bench;

import dev.panmap.Addressing;
import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.structures.RegionHeap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One region, mapped five ways in this process, so that every variant reads the same physical pages
 * (two regions built one after the other are not comparable at large sizes):
 * <ul>
 * <li>{@link #direct}: the DIRECT region at its fixed base, where stored references are addresses;</li>
 * <li>{@link #offset}: the same region opened again, which the base being taken puts elsewhere
 *     (the offset fallback): a reference minus a constant is an offset into its segment, the exact
 *     code path of an OFFSET region;</li>
 * <li>{@link #jdk}, {@link #buffer}, {@link #agrona}: the shm file under {@code /dev/shm} mapped by
 *     the JDK ({@code FileChannel.map(..., Arena)} and {@code MappedByteBuffer}) and wrapped by
 *     Agrona's {@code UnsafeBuffer}. Their position of a reference is {@code ref - }{@link #peerBase}.</li>
 * </ul>
 */
final class Mapped implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    @SuppressWarnings("restricted")
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    final String name;
    final SharedRegion direct;
    final SharedRegion offset;
    final RegionHeap heap;
    final Arena arena = Arena.ofShared();
    final MemorySegment jdk;
    final MappedByteBuffer buffer;
    final UnsafeBuffer agrona;
    /** A stored reference minus this is its position in the file (the peers' index). */
    final long peerBase;
    /** The file position of data offset 0. */
    final long dataStart;

    Mapped(long dataBytes) {
        name = "/panmap-bench-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        direct = SharedRegion.create(name, RegionOptions.defaults().size(dataBytes).addressing(Addressing.DIRECT).reserve(true));
        offset = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true));
        if (!direct.references().isDirect() || offset.references().isDirect()) {
            throw new IllegalStateException("expected a DIRECT mapping and an offset-fallback mapping: " + direct + ", " + offset);
        }
        heap = RegionHeap.create(direct, 0, direct.size());
        dataStart = direct.dataOffset();
        peerBase = direct.references().toRef(0) - dataStart;
        long fileSize = direct.regionSize();
        try (FileChannel channel = FileChannel.open(Path.of("/dev/shm" + name), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            jdk = channel.map(FileChannel.MapMode.READ_WRITE, 0, fileSize, arena);
            buffer = fileSize <= Integer.MAX_VALUE ? channel.map(FileChannel.MapMode.READ_WRITE, 0, fileSize) : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (buffer != null) {
            buffer.order(ByteOrder.nativeOrder());
        }
        agrona = buffer == null ? null : new UnsafeBuffer(buffer);
        SharedRegion.remove(name); // all five mappings are made: nothing is left in /dev/shm if a fork dies
    }

    @Override
    public void close() {
        offset.close();
        direct.close();
        arena.close();
    }

    /** xorshift64: the benchmarks' cheap, allocation-free random numbers. */
    static long next(long x) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        return x;
    }
}
