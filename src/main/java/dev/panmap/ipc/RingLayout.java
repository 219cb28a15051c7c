package dev.panmap.ipc;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The on-region layouts of the rings in this package (layout version 2): the one place that says where
 * every field lives. Offsets are bytes from the ring's root (its data-area offset, 128-aligned); values
 * are native order (little-endian on x86_64); every position is a {@code long} that only grows (bytes
 * since the ring was created), so a buffer may hold up to 2^62 bytes and a position never wraps in
 * practice. docs/FORMAT.md §10 draws the same tables for the C and Python clients.
 * <strong>Any change to a layout below must change {@link #VERSION}.</strong>
 *
 * <h2>Message ring ({@link Ring}: one-to-one and many-to-one)</h2>
 * <pre>
 *  control block                                                    root +
 *  |                  magic "PMRING\0\0" (8)                       | 0    written last (release)
 *  |          version (4)          |  kind (4): 1 one-to-one, 2 many-to-one | 8
 *  |               capacity: buffer bytes, a power of two (8)      | 16
 *  |       max producers (4)       |    max message length (4)    | 24
 *  |                    created, epoch millis (8)                  | 32
 *  |                       reserved (88)                           | 40
 *  +------------------------------- producers' line ---------------+ 128
 *  |                       tail: position (8)                      | 128  next byte to claim; CAS (many-to-one)
 *  |                       reserved (120)                          | 136
 *  +------------------------------- consumer's line ---------------+ 256
 *  |                       head: position (8)                      | 256  consumed up to (release)
 *  |                   head intent: position (8)                   | 264  end of the batch being zeroed
 *  |          consumer: process stamp (8), for tools               | 272  0 when none; its lock byte: the consumer's place
 *  |                   consumed messages (8)                       | 280
 *  |                 skipped dead claims (8)                       | 288  claims of dead producers made padding
 *  |               skipped dead claim bytes (8)                    | 296
 *  |                consumed intent: messages (8)                  | 304  the count after the batch being zeroed
 *  |              consumer heartbeat, epoch millis (8)             | 312  stored by the consumer as it reads
 *  |                       reserved (64)                           | 320
 *  +------------------------------- wait line ---------------------+ 384
 *  |      signal (4): futex word   |   sleeping (4): 0 or 1        | 384  see "Waiting"
 *  |                     wake calls (8)                            | 392  futex wakes made by producers
 *  |   space signal (4): futex word | producers waiting (4): 0 or 1 | 400  producers that wait for room
 *  |                  space wake calls (8)                         | 408  futex wakes made by the consumer
 *  +------------------------------- counts ------------------------+ 512
 *  |               retired produced messages (8)                   | 512  committed by producers now gone
 *  |                       reserved (120)                          | 520
 *  +------------------------------- producer table ----------------+ 640
 *  | max producers x 128-byte entries (each its own pair of cache lines):                     |
 *  |          producer: process stamp (8), for tools               | +0   0 when free; its lock byte: the entry's holder
 *  |                  claim start: position (8)                    | +8   written before the claim (intent)
 *  |                   claim end: position (8)                     | +16
 *  |                   committed messages (8)                      | +24
 *  |                       reserved (96)                           | +32
 *  +------------------------------- buffer ------------------------+ 640 + 128 x max producers
 *  | capacity bytes of records                                     |
 * </pre>
 *
 * <h2>Liveness: lock bytes, kept by the kernel</h2>
 * Each place a process holds in a ring has a <b>lock byte</b> of the region object,
 * {@link #lockByte(long, long) 2^61 + root + the place's offset}: a producer entry's (root + 640 + 128 i),
 * the consumer's (root + 272), a broadcast transmitter's (root + 40). A process takes the byte's lock
 * (POSIX: an OFD write lock, as the attach slots of FORMAT.md §3.4) before it takes the place, stores
 * its stamp after, clears the stamp before it lets the lock go, and the kernel lets it go when it dies.
 * A place is held by a live process iff its byte is locked; the stamps are only for tools. Zombies,
 * reused pids and processes in other pid namespaces are so judged right with no {@code /proc} read.
 *
 * <p>A <b>record</b> is an 8-byte header and its payload, 8-aligned, never split across the end of the
 * buffer (a padding record fills the rest of a lap instead):
 * <pre>
 *   63                              32 31                               0
 *  +----------------------------------+----------------------------------+
 *  |  type (committed, ≥ 1; -1 padding)|  length: header + payload bytes  |
 *  |  or producer entry (claimed)     |  &gt; 0 committed, &lt; 0 claimed, 0 free |
 *  +----------------------------------+----------------------------------+
 *  |                   payload (length - 8 bytes), then zeros to 8-alignment                   |
 * </pre>
 * The header is one 8-byte word, written in one store: a claim writes {@code (-length, entry)}; a
 * commit (or an abort) compare-and-sets it from that to {@code (length, type)} (or padding) after the
 * payload, so the consumer, which reads the header with acquire, sees a whole message or none, and a
 * commit whose claim was taken from it (a consumer's {@code unblock}) fails instead of storing into
 * space already given back. The consumer zeroes every byte it has consumed before it moves the head,
 * so a header the producers have not written yet in this lap reads 0. A consumer checks a committed
 * record's length (8 to the largest message + 8, within the lap) and type (≥ 1, or -1) before its
 * handler sees it and before any position moves: a damaged record is {@code CORRUPT_REGION}, and the
 * head stays at it.
 *
 * <p><b>Claiming.</b> Many-to-one: the range goes to the producer's entry (its intent), the tail is
 * taken by compare-and-set, then the wrap padding (if the claim wraps) and the claim header are
 * stored. One-to-one: the intent, the claim header, the tail (release), then the wrap padding: until
 * the tail moves, nothing in the buffer can be consumed, so a producer that dies before its tail store
 * left nothing the consumer acts on.
 *
 * <h2>Why a dead producer cannot wedge the consumer</h2>
 * A consumer that finds the record at its head unfinished for longer than a grace period asks whether
 * its producer is alive (the entry's lock byte), and only if it is dead turns the record into padding
 * (a compare-and-set) and counts it:
 * <ul>
 * <li>a claimed header {@code (-length, entry)} below the tail names its producer and its length
 *     exactly (at or past the tail it is unpublished: never padded);</li>
 * <li>a header still 0 below the tail (a producer died between its compare-and-set and its header
 *     store) is claimed by the entries (with a stamp) whose intent range holds the head: if every one
 *     of them is dead, the gap runs to the first of the tail, the end of the lap, a non-zero word, or
 *     the start of another entry's intent (a producer after it that has claimed but not yet written).</li>
 * </ul>
 * A live producer's claim is never taken, however slow it is, except by {@link RingConsumer#unblock}
 * (a claim a thread of a live process left). A many-to-one entry is reused only once the consumer is
 * past its last intent. A one-to-one producer that takes the place of a dead one finishes the dead
 * one's claim first: it pads it if it was published (its missing wrap padding too), erases its header
 * if it was not (the tail never moved: the new producer starts there).
 *
 * <h2>Why a dead consumer loses nothing</h2>
 * The consumer writes the count after a batch to the consumed intent and then the end of the batch
 * to the head intent, before it zeroes the batch; then it stores the count and moves the head. A
 * consumer that restarts and finds head intent &gt; head finishes the zeroing, the count (from the
 * consumed intent) and the move: the batch was handed to the handler already. Head and count so
 * always move together, whatever store a consumer died at. Messages handled but not yet released by a
 * move of the head are handed out again (at least once, at most one batch).
 *
 * <h2>Waiting</h2>
 * The consumer sets {@code sleeping} with a full fence, re-reads its head record, and sleeps on
 * {@code signal} with the value it read before; a producer that has signalling on fences after its
 * commit and, only if {@code sleeping} is set, increments {@code signal} and wakes it. One side's
 * store is always seen by the other's load (the StoreLoad pairing of Linux's futex wait/wake), so no
 * wake-up is lost, and no producer makes a system call while the consumer is awake. A consumer that
 * registers clears a {@code sleeping} left by a dead one. Producers that wait for room do the same
 * the other way round: {@code producers waiting} set with a full fence, the head re-read, a sleep on
 * {@code space signal} of at most 1 ms at a time; a consumer that moves the head and sees the flag
 * clears it, increments the word and wakes them.
 *
 * <h2>Broadcast ({@link BroadcastTransmitter}, {@link BroadcastReceiver})</h2>
 * <pre>
 *  |                  magic "PMBCAST\0" (8)                        | 0    written last (release)
 *  |          version (4)          |          kind (4): 3          | 8
 *  |               capacity: buffer bytes, a power of two (8)      | 16
 *  |       reserved (4)            |    max message length (4)    | 24
 *  |                    created, epoch millis (8)                  | 32
 *  |        transmitter: process stamp (8), for tools              | 40   its lock byte: the transmitter's place
 *  +------------------------------- transmitter's line ------------+ 128
 *  |                   tail intent: position (8)                   | 128  stored before a record is written
 *  |                       tail: position (8)                      | 136  stored after (release)
 *  |                  latest record: position (8)                  | 144
 *  |                  transmitted messages (8)                     | 152
 *  +------------------------------- buffer ------------------------+ 256
 *  record: | length (4) | type (4) | sequence (8) | payload | to 8-alignment
 * </pre>
 * A receiver copies a record out and then checks that the transmitter's tail intent has not come
 * within a lap of it; if it has, the copy may be torn and is dropped, and the receiver jumps to the
 * latest record: lapped once more, and the difference of sequence numbers is how many messages it
 * lost. Before it jumps it checks the positions against each other (a tail is at most its intent;
 * tail, intent and latest lie within two records of each other), and it counts laps and padding
 * records in a row against a limit ({@link #MAX_SKIPS}): forged positions are {@code CORRUPT_REGION},
 * a flood of padding ends a read, never spins it. A transmitter that takes a dead one's place pads
 * from the tail to the dead one's intent before it moves the tail there.
 */
public final class RingLayout {
    private RingLayout() {}

    /** The layout version of every ring in this package. */
    public static final int VERSION = 2;

    /** The magic of a message ring, "PMRING" in ASCII, zero-padded, little-endian; stored last. */
    public static final long RING_MAGIC = magic("PMRING");
    /** The magic of a broadcast buffer, "PMBCAST" in ASCII, zero-padded, little-endian; stored last. */
    public static final long BROADCAST_MAGIC = magic("PMBCAST");

    /** The kind of a one-to-one message ring. */
    public static final int KIND_ONE_TO_ONE = 1;
    /** The kind of a many-to-one message ring. */
    public static final int KIND_MANY_TO_ONE = 2;
    /** The kind of a broadcast buffer. */
    public static final int KIND_BROADCAST = 3;

    /** Roots are aligned to this (two cache lines: the adjacent-line prefetcher pairs them). */
    public static final int ROOT_ALIGNMENT = 128;

    // ---------------------------------------------------------------- control block
    /** Where the magic is, in bytes from the root. */
    public static final int MAGIC_OFFSET = 0;
    /** Where the layout version is, in bytes from the root. */
    public static final int VERSION_OFFSET = 8;
    /** Where the kind is, in bytes from the root. */
    public static final int KIND_OFFSET = 12;
    /** Where the buffer's capacity is, in bytes from the root. */
    public static final int CAPACITY_OFFSET = 16;
    /** Where the number of producer entries is, in bytes from the root. */
    public static final int MAX_PRODUCERS_OFFSET = 24;
    /** Where the largest message length is, in bytes from the root. */
    public static final int MAX_MESSAGE_OFFSET = 28;
    /** Where the creation time (epoch milliseconds) is, in bytes from the root. */
    public static final int CREATED_MILLIS_OFFSET = 32;

    /** Where a message ring's tail (the next position to claim) is, in bytes from the root. */
    public static final int TAIL_OFFSET = 128;

    /** Where the head (consumed up to) is, in bytes from the root. */
    public static final int HEAD_OFFSET = 256;
    /** Where the head intent (the end of the batch being zeroed) is, in bytes from the root. */
    public static final int HEAD_INTENT_OFFSET = 264;
    /** Where the consumer's process stamp is, in bytes from the root. */
    public static final int CONSUMER_OFFSET = 272;
    /** Where the count of consumed messages is, in bytes from the root. */
    public static final int CONSUMED_OFFSET = 280;
    /** Where the count of dead producers' skipped claims is, in bytes from the root. */
    public static final int SKIPPED_CLAIMS_OFFSET = 288;
    /** Where the bytes of skipped claims are counted, in bytes from the root. */
    public static final int SKIPPED_BYTES_OFFSET = 296;
    /** Where the consumed intent (the count after the batch being zeroed) is, in bytes from the root. */
    public static final int CONSUMED_INTENT_OFFSET = 304;
    /** Where the consumer's heartbeat (epoch milliseconds, stored as it reads) is, in bytes from the root. */
    public static final int HEARTBEAT_OFFSET = 312;

    /** Where the futex word a sleeping consumer waits on is, in bytes from the root. */
    public static final int SIGNAL_OFFSET = 384;
    /** Where the consumer says it sleeps (0 or 1), in bytes from the root. */
    public static final int SLEEPING_OFFSET = 388;
    /** Where the count of wake calls made by producers is, in bytes from the root. */
    public static final int WAKE_CALLS_OFFSET = 392;
    /** Where the futex word producers waiting for room sleep on is, in bytes from the root. */
    public static final int SPACE_SIGNAL_OFFSET = 400;
    /** Where producers say they wait for room (0 or 1), in bytes from the root. */
    public static final int PRODUCERS_WAITING_OFFSET = 404;
    /** Where the count of wake calls made by the consumer is, in bytes from the root. */
    public static final int SPACE_WAKE_CALLS_OFFSET = 408;

    /** Where the messages committed by producers now gone are counted, in bytes from the root. */
    public static final int RETIRED_PRODUCED_OFFSET = 512;

    /** Where the producer table starts, in bytes from the root. */
    public static final int PRODUCERS_OFFSET = 640;
    /** The size of a producer entry in bytes. */
    public static final int ENTRY_SIZE = 128;
    /** Where an entry's producer stamp is, in bytes from the entry's start. */
    public static final int ENTRY_STAMP_OFFSET = 0;
    /** Where an entry's claim start (its intent) is, in bytes from the entry's start. */
    public static final int ENTRY_CLAIM_START_OFFSET = 8;
    /** Where an entry's claim end is, in bytes from the entry's start. */
    public static final int ENTRY_CLAIM_END_OFFSET = 16;
    /** Where an entry's count of committed messages is, in bytes from the entry's start. */
    public static final int ENTRY_COMMITTED_OFFSET = 24;

    /** The most producer entries a many-to-one ring may have. */
    public static final int MAX_PRODUCERS = 4096;
    /** The producer entries a many-to-one ring gets unless told. */
    public static final int DEFAULT_PRODUCERS = 64;

    // ---------------------------------------------------------------- records
    /** The length of a record header in a message ring, in bytes. */
    public static final int HEADER_LENGTH = 8;
    /** Records start at multiples of this. */
    public static final int RECORD_ALIGNMENT = 8;
    /** The type of a padding record; message types are ≥ 1. */
    public static final int PADDING_TYPE = -1;

    // ---------------------------------------------------------------- broadcast
    /** Where a broadcast buffer's transmitter stamp is, in bytes from the root. */
    public static final int TRANSMITTER_OFFSET = 40;
    /** Where a broadcast buffer's tail intent is, in bytes from the root. */
    public static final int TAIL_INTENT_OFFSET = 128;
    /** Where a broadcast buffer's tail is, in bytes from the root. */
    public static final int BROADCAST_TAIL_OFFSET = 136;
    /** Where the position of a broadcast buffer's latest record is, in bytes from the root. */
    public static final int LATEST_OFFSET = 144;
    /** Where the count of transmitted messages is, in bytes from the root. */
    public static final int TRANSMITTED_OFFSET = 152;
    /** Where a broadcast buffer's records start, in bytes from the root. */
    public static final int BROADCAST_BUFFER_OFFSET = 256;
    /** The length of a broadcast record header (length, type, sequence), in bytes. */
    public static final int BROADCAST_HEADER_LENGTH = 16;
    /** Where a broadcast record's sequence number is, in bytes from the record's start. */
    public static final int BROADCAST_SEQUENCE_OFFSET = 8;

    /** Lock bytes of a ring's places lie at this object offset plus the root plus the place's offset. */
    public static final long LOCK_BASE = 1L << 61;

    /** Laps or padding records in a row after which a read ends with what it has (a broadcast receiver, a consumer). */
    public static final int MAX_SKIPS = 64;

    /** The smallest buffer. */
    public static final long MIN_CAPACITY = 1024;
    /** The largest buffer: positions stay far from overflow. */
    public static final long MAX_CAPACITY = 1L << 62;

    /**
     * {@return the offset of the buffer from the root of a message ring with this many producer entries}
     *
     * @param maxProducers the number of producer entries
     */
    public static long bufferOffset(int maxProducers) {
        long end = PRODUCERS_OFFSET + (long) ENTRY_SIZE * maxProducers;
        return (end + ROOT_ALIGNMENT - 1) & -ROOT_ALIGNMENT;
    }

    /**
     * {@return the object byte whose lock says that the place at {@code offset} of the ring at data offset
     * {@code root} is held} (beyond any real size: 2^61 + root + offset)
     *
     * @param root the ring's data offset
     * @param offset the place's offset from the ring's root
     */
    public static long lockByte(long root, long offset) {
        return LOCK_BASE + root + offset;
    }

    /**
     * {@return the bytes a message ring takes in a region: control block, producer table and buffer}
     *
     * @param capacity the buffer's size in bytes
     * @param maxProducers the number of producer entries
     */
    public static long ringFootprint(long capacity, int maxProducers) {
        checkCapacity(capacity);
        checkProducers(maxProducers);
        return bufferOffset(maxProducers) + capacity;
    }

    /**
     * {@return the bytes a broadcast buffer takes in a region}
     *
     * @param capacity the buffer's size in bytes
     */
    public static long broadcastFootprint(long capacity) {
        checkCapacity(capacity);
        return BROADCAST_BUFFER_OFFSET + capacity;
    }

    /**
     * {@return the largest payload of a message ring of this capacity (an eighth, as Agrona)}
     *
     * @param capacity the buffer's size in bytes
     */
    public static int maxMessageLength(long capacity) {
        return (int) Math.min(capacity / 8 - HEADER_LENGTH, Integer.MAX_VALUE - 2 * RECORD_ALIGNMENT);
    }

    /**
     * {@return the largest payload of a broadcast buffer of this capacity}
     *
     * @param capacity the buffer's size in bytes
     */
    public static int maxBroadcastLength(long capacity) {
        return (int) Math.min(capacity / 8 - BROADCAST_HEADER_LENGTH, Integer.MAX_VALUE - 2 * RECORD_ALIGNMENT);
    }

    /**
     * Checks a buffer capacity.
     *
     * @param capacity the buffer's size in bytes
     * @throws IllegalArgumentException unless it is a power of two from {@link #MIN_CAPACITY} to {@link #MAX_CAPACITY}
     */
    public static void checkCapacity(long capacity) {
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Long.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two in [" + MIN_CAPACITY + ", 2^62]: capacity=" + capacity);
        }
    }

    /**
     * Checks a number of producer entries.
     *
     * @param maxProducers the number of producer entries
     * @throws IllegalArgumentException unless it is from 1 to {@link #MAX_PRODUCERS}
     */
    public static void checkProducers(int maxProducers) {
        if (maxProducers < 1 || maxProducers > MAX_PRODUCERS) {
            throw new IllegalArgumentException("max producers must be in [1, " + MAX_PRODUCERS + "]: maxProducers=" + maxProducers);
        }
    }

    /**
     * {@return the header word of a record}
     *
     * @param length the record's length: positive committed, negative claimed
     * @param type the message type, or the producer entry of a claim
     */
    public static long header(int length, int type) {
        return ((long) type << 32) | Integer.toUnsignedLong(length);
    }

    /**
     * {@return the length half of a record's header word}
     *
     * @param header the header word
     */
    public static int length(long header) {
        return (int) header;
    }

    /**
     * {@return the type half of a record's header word}
     *
     * @param header the header word
     */
    public static int type(long header) {
        return (int) (header >>> 32);
    }

    /**
     * {@return {@code length} rounded up to the record alignment}
     *
     * @param length a length in bytes
     */
    public static long align(long length) {
        return (length + RECORD_ALIGNMENT - 1) & -RECORD_ALIGNMENT;
    }

    /** {@return up to 8 ASCII characters read as a little-endian long, zero-padded} */
    static long magic(String text) {
        long m = 0;
        for (int i = text.length() - 1; i >= 0; i--) {
            m = (m << 8) | (text.charAt(i) & 0xFF);
        }
        return m;
    }

    /** Checks where a ring may go in a data area before anything is written there. */
    static void checkPlace(MemorySegment data, long root, long footprint, String what) {
        if (root < 0 || root % ROOT_ALIGNMENT != 0 || footprint > data.byteSize() || root > data.byteSize() - footprint) {
            throw new IllegalArgumentException(what + " must be at a " + ROOT_ALIGNMENT + "-aligned data offset with its "
                + footprint + " bytes inside the " + data.byteSize() + "-byte data area: offset=" + root);
        }
    }

    /**
     * Checks the magic, version and kind at {@code root} before anything else is trusted.
     *
     * @return the kind
     */
    static int check(MemorySegment data, long root, long magic, String what) {
        if (root < 0 || root % ROOT_ALIGNMENT != 0 || root > data.byteSize() - ROOT_ALIGNMENT) {
            throw new IllegalArgumentException(what + " must be at a " + ROOT_ALIGNMENT
                + "-aligned data offset inside the data area: offset=" + root);
        }
        long found = (long) ValueLayout.JAVA_LONG.varHandle().getAcquire(data, root + MAGIC_OFFSET);
        if (found != magic) {
            throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, "no " + what + " at data offset " + root
                + ": magic 0x" + Long.toHexString(found) + ", expected 0x" + Long.toHexString(magic));
        }
        int v = data.get(ValueLayout.JAVA_INT, root + VERSION_OFFSET);
        if (v != VERSION) {
            throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, what + " at data offset " + root
                + " has layout version " + v + "; this panmap reads version " + VERSION);
        }
        return data.get(ValueLayout.JAVA_INT, root + KIND_OFFSET);
    }

    /** Writes the version and kind, then the magic with a release store: the ring is published. */
    static void publish(MemorySegment data, long root, long magic, int kind) {
        data.set(ValueLayout.JAVA_INT, root + VERSION_OFFSET, VERSION);
        data.set(ValueLayout.JAVA_INT, root + KIND_OFFSET, kind);
        ValueLayout.JAVA_LONG.varHandle().setRelease(data, root + MAGIC_OFFSET, magic);
    }
}
