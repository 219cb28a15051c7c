package dev.panmap.internal;

import java.lang.foreign.MemorySegment;
import java.util.zip.CRC32C;

/**
 * The layout of a panmap region's header: the one place that says where every field lives.
 * All values are little-endian on x86_64 (native order); offsets are bytes from the start of the
 * mapping. <strong>Any change to this layout must change {@link #LAYOUT_VERSION}</strong>: an
 * attaching process refuses a region whose version differs.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                      magic "PANMAP\0\0" (8)                   | 0    written last (release)
 *  +---------------------------------------------------------------+
 *  |                      layout version (4)                       | 8
 *  |                header size = data offset (4)                  | 12
 *  |               region size at creation (8)                     | 16   header + data, bytes
 *  |                data size at creation (8)                      | 24
 *  |                       addressing (4)                          | 32   0 OFFSET, 1 DIRECT
 *  |                 permissions at creation (4)                   | 36
 *  |                      base address (8)                         | 40   DIRECT: where every process maps it
 *  |                    reserved span (8)                          | 48   the most the region may grow to (bytes,
 *  |                                                               |      header included); every process keeps
 *  |                                                               |      that much address space; the region size
 *  |                                                               |      when it cannot grow (never 0)
 *  |                      spare, 0 (8)                             | 56
 *  |                      creator pid (4)                          | 64
 *  |                 attach table capacity (4)                     | 68
 *  |                  creator start time (8)                       | 72
 *  |                 creation time, epoch ms (8)                   | 80
 *  |                  header checksum (4)                          | 88   CRC32C of bytes [8, 88)
 *  |                        flags (4)                              | 92   0; for later use (outside the checksum:
 *  |                                                               |      a use needs a version change)
 *  +---------------------------------------------------------------+
 *  |               current region size (8)                         | 96   mutable: release-stored by grow()
 *  |                     generation (8)                            | 104  mutable: 1 at creation, +1 per growth
 *  |                      reserved (16)                            | 112
 *  +---------------------------------------------------------------+
 *  |           writer lock: holder stamp (8)                       | 128  0 when free; see ProcessStamp
 *  |           writer lock: holder start time (8)                  | 136  for tools; written before the stamp
 *  |             writer lock: acquisitions (8)                     | 144
 *  |             writer lock: stale recoveries (8)                 | 152
 *  |           writer lock: last stale holder stamp (8)            | 160
 *  |        writer lock: last stale holder start time (8)          | 168
 *  |                      reserved (80)                            | 176
 *  +---------------------------------------------------------------+
 *  |          attach table: capacity x 32-byte slots               | 256
 *  |   slot: process stamp (8) | start time (8) |                  |
 *  |         attach time, epoch ms (8) | reserved (8)              |
 *  |   (slot i's liveness: an OFD lock on byte 2^62 + i of the     |
 *  |    object, beyond any real size, held while attached)         |
 *  +---------------------------------------------------------------+
 *  |      padding up to the header size (a page multiple)          |
 *  +---------------------------------------------------------------+
 *  |                     data area (data size)                     | header size
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>Why it works</h2>
 * <ul>
 * <li><b>Publication.</b> The creator writes every field, the checksum and the version, and then the
 *     magic with a release store. An attaching process reads the magic with an acquire load: zero
 *     means "creation in progress" (it waits, bounded), anything else but {@link #MAGIC} means "not a
 *     panmap region". The creator pid is written first, so a waiter can tell a dead creator.</li>
 * <li><b>Immutable fields</b> (8 to 88) never change after publication; the checksum catches a
 *     damaged or foreign header before anything is trusted.</li>
 * <li><b>Growth.</b> The current size and the generation (96, 104) are the only mutable header
 *     fields outside the lock and the attach table. {@code grow()} runs under the writer lock: it
 *     reserves the backing first ({@code fallocate}, so a full file system fails the grow and leaves
 *     the region as it was), then release-stores the new size, then the new generation. A process
 *     that reads a size with an acquire load may map that much: the backing is already there. Sizes
 *     only increase. Every process keeps the reserved span of address space from its first mapping
 *     on, so a DIRECT region grows in place at its base and pointers stay valid.</li>
 * <li><b>The writer lock</b> itself is an operating-system lock (an open-file-description lock on
 *     byte 2<sup>63</sup>-2 of the object on Linux), so it is released when its holder dies. The holder
 *     stamp only says who holds it, for tools and for the next holder: a holder clears it before it
 *     lets the lock go, so a stamp found by the next holder was left by a holder that died.</li>
 * <li><b>Liveness the kernel keeps.</b> An attached process holds an OFD write lock on byte
 *     2<sup>62</sup>+i of the object for its slot i, taken before it writes its stamp and released
 *     after it clears it; the kernel drops it when the process dies. Whether slot i's process lives is
 *     whether that byte is locked ({@code F_OFD_GETLK}), whatever pid namespace either process is in;
 *     the pid and start time are information for tools. (Windows: pid and creation time.)</li>
 * <li><b>Who, in one word.</b> The holder and every attach slot name their process with a
 *     {@link ProcessStamp}: pid and start-time tag in one aligned 8-byte word, written, swapped and
 *     read as a unit, so no reader can pair one process's pid with another's start time and take a
 *     live process for a dead one. The full start time beside it is for tools only.</li>
 * <li><b>Attach slots</b> are claimed by compare-and-set of the stamp from 0, released by
 *     compare-and-set from the claimer's own stamp, and reclaimed from a dead process by
 *     compare-and-set from the dead stamp that was judged, so a slot is never taken from a process
 *     that claimed it in between.</li>
 * </ul>
 */
public final class RegionLayout {
    private RegionLayout() {}

    /** "PANMAP\0\0" read as a little-endian long. */
    public static final long MAGIC = 0x0000_5041_4D4E_4150L;
    /** The version of this layout; change it with any change above. */
    public static final int LAYOUT_VERSION = 3;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 8;
    public static final int HEADER_SIZE_OFFSET = 12;
    public static final int REGION_SIZE_OFFSET = 16;
    public static final int DATA_SIZE_OFFSET = 24;
    public static final int ADDRESSING_OFFSET = 32;
    public static final int PERMISSIONS_OFFSET = 36;
    public static final int BASE_ADDRESS_OFFSET = 40;
    public static final int RESERVED_SPAN_OFFSET = 48;
    public static final int CREATOR_PID_OFFSET = 64;
    public static final int ATTACH_CAPACITY_OFFSET = 68;
    public static final int CREATOR_START_OFFSET = 72;
    public static final int CREATED_MILLIS_OFFSET = 80;
    public static final int CHECKSUM_OFFSET = 88;
    public static final int FLAGS_OFFSET = 92;
    /** The checksum covers {@code [CHECKSUMMED_FROM, CHECKSUM_OFFSET)}. */
    public static final int CHECKSUMMED_FROM = VERSION_OFFSET;

    public static final int CURRENT_SIZE_OFFSET = 96;
    public static final int GENERATION_OFFSET = 104;

    public static final int LOCK_HOLDER_OFFSET = 128;
    public static final int LOCK_HOLDER_START_OFFSET = 136;
    public static final int LOCK_ACQUISITIONS_OFFSET = 144;
    public static final int LOCK_STALE_RECOVERIES_OFFSET = 152;
    public static final int LOCK_LAST_STALE_OFFSET = 160;
    public static final int LOCK_LAST_STALE_START_OFFSET = 168;

    public static final int ATTACH_TABLE_OFFSET = 256;
    public static final int ATTACH_SLOT_SIZE = 32;
    public static final int SLOT_STAMP_OFFSET = 0;
    public static final int SLOT_START_OFFSET = 8;
    public static final int SLOT_ATTACHED_MILLIS_OFFSET = 16;

    /** The object byte whose OFD lock is attach slot 0's liveness; slot i's is this + i. Beyond any real size. */
    public static final long SLOT_LOCK_BYTE = 1L << 62;
    /** The object byte whose OFD lock is the writer lock. Beyond any real size. */
    public static final long WRITER_LOCK_BYTE = Long.MAX_VALUE - 1;

    /** Addressing codes. */
    public static final int ADDRESSING_OFFSET_MODE = 0;
    public static final int ADDRESSING_DIRECT_MODE = 1;

    /**
     * The largest reserved span a header may name, header included: 32 TiB, a quarter of x86-64's 47-bit
     * user address space (an attach reserves the span; a forged one must not take the process's
     * address space). Also the most a creator may ask for: header + {@code RegionOptions.maxSize}, or
     * header + size; one limit for both, so that every region panmap makes, another panmap opens.
     */
    public static final long MAX_RESERVED_SPAN = 1L << 45;
    /** The lowest DIRECT base a header may name (below it: the null-page guard, {@code vm.mmap_min_addr}). */
    public static final long MIN_DIRECT_BASE = 1L << 16;
    /** The end of x86-64's 47-bit user address space: no DIRECT region may reach past it. */
    public static final long USER_SPACE_END = 1L << 47;

    /** The smallest header: everything before the attach table. */
    public static final int MIN_HEADER_SIZE = ATTACH_TABLE_OFFSET;
    public static final int DEFAULT_ATTACH_CAPACITY = 64;
    public static final int MAX_ATTACH_CAPACITY = 1 << 16;

    /** {@return the header size for a capacity: the attach table rounded up to whole pages} */
    public static long headerSize(int attachCapacity, long pageSize) {
        checkAttachCapacity(attachCapacity);
        long bytes = ATTACH_TABLE_OFFSET + (long) attachCapacity * ATTACH_SLOT_SIZE;
        return (bytes + pageSize - 1) / pageSize * pageSize;
    }

    /** @throws IllegalArgumentException if the attach table capacity is out of range */
    public static void checkAttachCapacity(int attachCapacity) {
        if (attachCapacity < 1 || attachCapacity > MAX_ATTACH_CAPACITY) {
            throw new IllegalArgumentException("attach table capacity must be in [1, " + MAX_ATTACH_CAPACITY + "]: capacity=" + attachCapacity);
        }
    }

    /** {@return the offset of attach slot {@code i}} */
    public static long slotOffset(int i) {
        return ATTACH_TABLE_OFFSET + (long) i * ATTACH_SLOT_SIZE;
    }

    /** {@return the CRC32C of the immutable fields of a header} */
    public static int checksum(MemorySegment header) {
        CRC32C crc = new CRC32C();
        crc.update(header.asSlice(CHECKSUMMED_FROM, CHECKSUM_OFFSET - CHECKSUMMED_FROM).asByteBuffer());
        return (int) crc.getValue();
    }
}
