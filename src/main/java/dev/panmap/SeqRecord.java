package dev.panmap;

import static dev.panmap.internal.RecordLayout.*;

import dev.panmap.internal.RecordLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * A multi-word record in a region that one writer at a time updates under the region's
 * {@link WriterLock} and any number of readers, in any process, read with no lock and no system
 * call, never seeing a torn value — also when a writer is killed in the middle of an update. The
 * layout and the argument for why this holds are in {@code dev.panmap.internal.RecordLayout}.
 *
 * <pre>{@code
 * SeqRecord status = SeqRecord.format(region, 0, 64);      // once, by the creator
 * try (var held = region.writerLock().hold()) {
 *     status.write(p -> { p.set(JAVA_LONG, 0, requests); p.set(JAVA_LONG, 8, errors); });
 * }
 * // any process, any time:
 * MemorySegment copy = Arena.ofAuto().allocate(64);
 * long version = SeqRecord.attach(region, 0).read(copy);
 * }</pre>
 */
public final class SeqRecord {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final SharedRegion region;
    private final MemorySegment record;
    private final int payloadSize;
    private final long stride;
    private final MemorySegment[] payloads; // the two slots' payloads, sliced once
    private final long offset;

    private SeqRecord(SharedRegion region, long offset, MemorySegment record, int payloadSize) {
        this.region = region;
        this.offset = offset;
        this.record = record;
        this.payloadSize = payloadSize;
        this.stride = RecordLayout.slotStride(payloadSize);
        this.payloads = new MemorySegment[2];
        for (int i = 0; i < 2; i++) {
            payloads[i] = record.asSlice(SLOTS_OFFSET + i * stride + SLOT_PAYLOAD_OFFSET, payloadSize);
        }
    }

    /**
     * {@return the bytes a record with {@code payloadSize} bytes of payload occupies in a region}
     *
     * @param payloadSize the payload's size in bytes
     */
    public static long footprint(int payloadSize) {
        checkPayload(payloadSize);
        return RecordLayout.footprint(payloadSize);
    }

    /**
     * Lays out a new, all-zero record at data-area {@code offset} (8-byte aligned) and returns it.
     * Do this once, while no one else uses that place: typically right after creating the region.
     *
     * @param region the region it lives in
     * @param offset its data offset, 8-aligned
     * @param payloadSize the payload's size in bytes
     * @return the record
     */
    public static SeqRecord format(SharedRegion region, long offset, int payloadSize) {
        checkPayload(payloadSize);
        MemorySegment record = slice(region, offset, RecordLayout.footprint(payloadSize));
        record.fill((byte) 0);
        record.set(ValueLayout.JAVA_INT, PAYLOAD_SIZE_OFFSET, payloadSize);
        record.set(ValueLayout.JAVA_INT, SLOT_STRIDE_OFFSET, RecordLayout.slotStride(payloadSize));
        LONG.setRelease(record, (long) MAGIC_OFFSET, MAGIC_AND_VERSION);
        return new SeqRecord(region, offset, record, payloadSize);
    }

    /**
     * Attaches to a record formatted at data-area {@code offset}, checking its magic, version and sizes.
     *
     * @param region the region it lives in
     * @param offset its data offset, as formatted
     * @return the record
     */
    public static SeqRecord attach(SharedRegion region, long offset) {
        MemorySegment head = slice(region, offset, SLOTS_OFFSET);
        long magic = (long) LONG.getAcquire(head, (long) MAGIC_OFFSET);
        if ((magic & 0xFFFF_FFFF_FFFFL) != MAGIC) {
            throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, "no SeqRecord at offset " + offset + " of " + region.name());
        }
        if (magic != MAGIC_AND_VERSION) {
            throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, "the SeqRecord at offset " + offset + " of " + region.name()
                + " has layout version " + (magic >>> 48) + "; this panmap reads version " + VERSION);
        }
        int payloadSize = head.get(ValueLayout.JAVA_INT, PAYLOAD_SIZE_OFFSET);
        if (payloadSize < 1 || payloadSize > MAX_PAYLOAD || head.get(ValueLayout.JAVA_INT, SLOT_STRIDE_OFFSET) != RecordLayout.slotStride(payloadSize)) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, "the SeqRecord at offset " + offset + " of " + region.name() + " has inconsistent sizes");
        }
        return new SeqRecord(region, offset, slice(region, offset, RecordLayout.footprint(payloadSize)), payloadSize);
    }

    private static void checkPayload(int payloadSize) {
        if (payloadSize < 1 || payloadSize > MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload size must be in [1, " + MAX_PAYLOAD + "]: payloadSize=" + payloadSize);
        }
    }

    private static MemorySegment slice(SharedRegion region, long offset, long size) {
        if ((offset & 7) != 0) {
            throw new IllegalArgumentException("a SeqRecord needs an 8-byte aligned offset: offset=" + offset);
        }
        MemorySegment data = region.segment();
        if (offset < 0 || offset + size > data.byteSize()) {
            throw new IllegalArgumentException("a SeqRecord of " + size + " bytes at offset " + offset
                + " does not fit the " + data.byteSize() + "-byte data area of " + region.name());
        }
        return data.asSlice(offset, size);
    }

    /** {@return the payload size in bytes} */
    public int payloadSize() {
        return payloadSize;
    }

    /** {@return the number of published writes (0 before the first)} */
    public long version() {
        return (long) LONG.getAcquire(record, (long) PUBLISHED_OFFSET) >>> 1;
    }

    /** {@return how many interrupted writes (of writers that died mid-write) were found and repaired} */
    public long repairedWrites() {
        return (long) LONG.getAcquire(record, (long) REPAIRED_OFFSET);
    }

    /**
     * Copies a consistent payload into {@code into} (at least {@link #payloadSize()} bytes): never a
     * mix of two writes. Takes no lock and makes no system call while it succeeds; retries while a
     * live writer laps it.
     *
     * <p>Bounded against damage: a record that yields no consistent copy for a millisecond is checked
     * against the writer lock. Nobody writes a record without holding it, so with the lock free the
     * record is still, and one more try must succeed; if it does not (the published slot is left with
     * an odd sequence, or its bytes change with no writer: the region was written by something other
     * than {@link #write}), the read ends with {@link ErrorKind#CORRUPT_REGION}. A writer that holds
     * the lock and never finishes (stopped, or hostile) keeps this read waiting; {@link #read(MemorySegment,
     * java.time.Duration)} bounds that too.
     *
     * @return the version of the payload copied
     * @throws RegionException {@link ErrorKind#CORRUPT_REGION} as above
     * @param into where the payload is copied to
     */
    public long read(MemorySegment into) {
        return read(into, -1L);
    }

    /**
     * As {@link #read(MemorySegment)}, giving up after {@code timeout} without a consistent copy.
     *
     * @return the version of the payload copied
     * @throws RegionException {@link ErrorKind#WOULD_BLOCK} when the timeout passed (a writer holds the
     *         lock and keeps the published slot in flux, or laps the reader all along), naming the slot
     *         and its sequence; {@link ErrorKind#CORRUPT_REGION} as {@link #read(MemorySegment)} says
     * @param into where the payload is copied to
     * @param timeout the longest wait for a consistent copy
     */
    public long read(MemorySegment into, java.time.Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("a timeout is not negative: " + timeout);
        }
        return read(into, timeout.toNanos());
    }

    /** How long a read fails before it asks whether a writer holds the lock at all (and between two asks). */
    private static final long CHECK_NANOS = 1_000_000;
    /** Tries before a failing read looks at the clock: a lapped read normally succeeds at its second try. */
    private static final int SPINS = 64;

    private long read(MemorySegment into, long timeoutNanos) {
        if (into.byteSize() < payloadSize) {
            throw new IllegalArgumentException("destination of " + into.byteSize() + " bytes is smaller than the payload (" + payloadSize + ")");
        }
        long version = tryRead(into);
        if (version >= 0) {
            return version;
        }
        long start = System.nanoTime();
        long checked = start;
        long pause = 1_000;
        for (int attempt = 1; ; attempt++) {
            version = tryRead(into);
            if (version >= 0) {
                return version;
            }
            if (attempt < SPINS) {
                Thread.onSpinWait();
                continue;
            }
            long now = System.nanoTime();
            if (timeoutNanos >= 0 && now - start >= timeoutNanos) {
                throw new RegionException(ErrorKind.WOULD_BLOCK, "no consistent copy of " + describe() + " within "
                    + java.time.Duration.ofNanos(timeoutNanos).toMillis() + " ms: " + state()
                    + (region.writerLock().isHeldAnywhere() ? "; a writer holds the lock" : ""));
            }
            if (now - checked >= CHECK_NANOS) {
                checked = now;
                if (!region.writerLock().isHeldAnywhere()) {
                    version = tryRead(into); // no writer: the record is still, this try sees it whole
                    if (version >= 0) {
                        return version;
                    }
                    throw new RegionException(ErrorKind.CORRUPT_REGION, describe() + " is damaged: " + state()
                        + ", and no writer holds the lock (a writer leaves the published slot even; only it changes the record)");
                }
            }
            java.util.concurrent.locks.LockSupport.parkNanos(pause); // a writer holds the lock: wait for it without spinning a core
            pause = Math.min(pause * 2, CHECK_NANOS);
        }
    }

    /** One attempt: {@return the version copied, or -1 if the copy may be torn} */
    private long tryRead(MemorySegment into) {
        long published = (long) LONG.getAcquire(record, (long) PUBLISHED_OFFSET);
        long slot = SLOTS_OFFSET + (published & 1) * stride;
        long before = (long) LONG.getAcquire(record, slot + SLOT_SEQUENCE_OFFSET);
        if ((before & 1) == 0) {
            MemorySegment.copy(record, slot + SLOT_PAYLOAD_OFFSET, into, 0, payloadSize);
            VarHandle.loadLoadFence();
            long after = (long) LONG.getAcquire(record, slot + SLOT_SEQUENCE_OFFSET);
            // both sequence loads equal: the copy is whole; published unchanged: it is this version
            if (before == after && (long) LONG.getAcquire(record, (long) PUBLISHED_OFFSET) == published) {
                return published >>> 1;
            }
        }
        return -1;
    }

    private String describe() {
        return "the SeqRecord at data offset " + offset + " of " + region.name();
    }

    /** {@return the published slot and its sequence, for messages} */
    private String state() {
        long published = (long) LONG.getAcquire(record, (long) PUBLISHED_OFFSET);
        long sequence = (long) LONG.getAcquire(record, SLOTS_OFFSET + (published & 1) * stride + SLOT_SEQUENCE_OFFSET);
        return "published slot " + (published & 1) + " (version " + (published >>> 1) + ") has sequence " + sequence
            + ((sequence & 1) != 0 ? " (odd: being written)" : "");
    }

    /**
     * Writes a new payload from {@code from} and publishes it.
     *
     * @throws IllegalStateException unless the calling thread holds the region's writer lock
     * @param from the new payload, at least {@link #payloadSize()} bytes
     */
    public void write(MemorySegment from) {
        if (from.byteSize() < payloadSize) {
            throw new IllegalArgumentException("source of " + from.byteSize() + " bytes is smaller than the payload (" + payloadSize + ")");
        }
        int target = begin();
        MemorySegment.copy(from, 0, payloads[target], 0, payloadSize);
        publish(target);
    }

    /**
     * Fills a new payload in place and publishes it. {@code writer} gets the payload of the slot being
     * written, which holds the previous-but-one version (not the current one): write every field.
     *
     * @throws IllegalStateException unless the calling thread holds the region's writer lock
     * @param writer fills the payload it is given
     */
    public void write(Consumer<MemorySegment> writer) {
        int target = begin();
        writer.accept(payloads[target]);
        publish(target);
    }

    /** Marks the unpublished slot as being written (odd), repairing it first if a writer died in it; {@return its index} */
    private int begin() {
        if (!region.writerLock().isHeldByCurrentThread()) {
            throw new IllegalStateException("writing a SeqRecord of " + region.name() + " needs its writer lock, held by this thread");
        }
        long published = (long) LONG.getAcquire(record, (long) PUBLISHED_OFFSET);
        int target = (int) (published & 1) ^ 1;
        long slot = SLOTS_OFFSET + target * stride;
        long sequence = (long) LONG.getAcquire(record, slot + SLOT_SEQUENCE_OFFSET);
        if ((sequence & 1) != 0) { // a writer died here mid-write; it was never published
            LONG.getAndAdd(record, (long) REPAIRED_OFFSET, 1L);
            sequence++;
        }
        LONG.setOpaque(record, slot + SLOT_SEQUENCE_OFFSET, sequence + 1); // odd: being written
        VarHandle.storeStoreFence(); // ... before any byte of the payload changes
        return target;
    }

    /** Seals the slot written since {@link #begin()} (even) and publishes it with one release store. */
    private void publish(int target) {
        long slot = SLOTS_OFFSET + target * stride;
        long published = (long) LONG.getAcquire(record, (long) PUBLISHED_OFFSET);
        LONG.setRelease(record, slot + SLOT_SEQUENCE_OFFSET, (long) LONG.get(record, slot + SLOT_SEQUENCE_OFFSET) + 1);
        LONG.setRelease(record, (long) PUBLISHED_OFFSET, (((published >>> 1) + 1) << 1) | target);
    }
}
