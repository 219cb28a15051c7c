package dev.panmap;

import static dev.panmap.internal.RegionLayout.*;

import dev.panmap.internal.AttachTable;
import dev.panmap.internal.Events;
import dev.panmap.internal.Header;
import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.internal.Platform.Access;
import dev.panmap.internal.Platform.Target;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A region of memory shared between processes: a named POSIX shared-memory object or a mapped file,
 * with a header (see {@code RegionLayout}) that records its size, addressing mode, base address,
 * writer lock and attached processes. A primary creates it; secondaries attach by name and see every
 * write at once.
 *
 * <pre>{@code
 * // primary
 * try (SharedRegion r = SharedRegion.create("/orders", RegionOptions.defaults().size(1 << 20))) {
 *     r.segment().set(ValueLayout.JAVA_LONG, 0, 42);
 * }
 * // secondary, in another process
 * try (SharedRegion r = SharedRegion.open("/orders")) {
 *     long v = r.segment().get(ValueLayout.JAVA_LONG, 0);
 * }
 * }</pre>
 *
 * <p><b>Lifetime.</b> {@link #close()} unmaps, deregisters this process and closes the descriptor;
 * it is idempotent, and the region itself lives on for the others until {@link #remove(String)}
 * unlinks it (like POSIX shm: those still attached keep using it). The region's own methods throw
 * {@link IllegalStateException} once {@code close()} has begun. The {@link #segment()} is bounded to
 * the data area and valid until {@code close()}; what an access through it does afterwards (also from
 * another thread while {@code close()} runs) depends on the region's arena, and is never a crash:
 * <ul>
 * <li>{@linkplain RegionOptions#ownArena its own arena} (DIRECT regions, {@linkplain
 *     RegionOptions#confinedToThread confined} ones, every region on Windows, and any with
 *     {@code ownArena(true)}): it throws {@link IllegalStateException} from the moment {@code close()}
 *     returns. The close of a shared arena is a handshake with every Java thread.</li>
 * <li>otherwise (the default for OFFSET regions on Linux) an arena shared by a batch of regions, closed
 *     once per batch: it reads zeros, and a store is lost, until the batch's arena closes, then it
 *     throws {@link IllegalStateException}. It never reads or writes the object or another region:
 *     the object's pages are replaced at the close, and the range is not reused before.</li>
 * </ul>
 *
 * <p><b>Raw regions</b> ({@link #openRaw}, {@link #openRawFile}) have no header: the whole object is the
 * data area, for sharing with programs that do not speak panmap.
 */
public final class SharedRegion implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.panmap");

    static {
        dev.panmap.internal.RegionInternals.install(SharedRegion::handle); // the rings' lock bytes (dev.panmap.ipc)
    }

    /** What backs a region. */
    public enum Backing {
        /** A named shared-memory object ({@code shm_open}; Windows: a page-file-backed named section). */
        SHARED_MEMORY,
        /** A file, opened by path. */
        FILE,
        /** An anonymous memory file ({@code memfd_create}): no name anywhere, gone with its last user. */
        ANONYMOUS
    }

    private final Platform platform;
    private final Target target;
    private final OpenMode openMode;
    private final boolean created;
    private final boolean raw;
    private final Platform.Handle handle;
    private final Arena arena;
    private final dev.panmap.internal.CloseBatch batch; // the arena's batch if it is shared with other regions (see close()), else null
    private volatile boolean mappingOwned;  // set last by the constructor: the arena's cleanup unmaps only then
    private final java.util.concurrent.atomic.AtomicInteger nativeUsers = new java.util.concurrent.atomic.AtomicInteger(); // native calls on the mapping under way
    private final long mappingAddress;
    private final long span;               // address space kept at mappingAddress: the most it may grow to
    private final long dataOffset;
    // the three below change together, under this object's monitor, when the region grows
    private volatile long mappingSize;
    private volatile MemorySegment mapping; // the whole mapping, header included, tied to the arena
    private volatile MemorySegment data;
    private volatile long generation;      // the header's generation this process has mapped
    private volatile RegionException broken; // set when the object was found shrunk under the mapping
    private final Header header;           // null for raw regions
    private final Addressing addressing;
    private final boolean offsetFallback;
    private final References references;
    private final AttachTable attachTable; // null for raw regions
    private int attachSlot = -1;           // set once by attach(); -1 if not registered
    private final int selfPid;
    private final long selfStartTime;
    private final WriterLock writerLock;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final boolean anonymous;
    private final String pageFallback;     // why preferred huge pages are not used, or null
    private final Thread owner;            // the only thread that may use it (RegionOptions.confinedToThread), or null

    // ====================================================================== opening

    /**
     * Creates a named shared-memory region ({@link OpenMode#CREATE_ONLY}); {@code options.size()} is required.
     *
     * @param name the region's name: {@code /orders} or {@code orders} (see {@link #canonicalName(String)})
     * @param options the size (required) and the other options
     * @return the open region; close it when done
     * @throws RegionException {@link ErrorKind#ALREADY_EXISTS} if it exists, or what else the system refused
     */
    public static SharedRegion create(String name, RegionOptions options) {
        return open(name, OpenMode.CREATE_ONLY, options);
    }

    /**
     * Attaches to an existing named region for reading and writing ({@link OpenMode#OPEN_ONLY}).
     *
     * @param name the region's name: {@code /orders} or {@code orders} (see {@link #canonicalName(String)})
     * @return the open region; close it when done
     * @throws RegionException {@link ErrorKind#NOT_FOUND} if there is none, or what else the system refused
     */
    public static SharedRegion open(String name) {
        return open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults());
    }

    /**
     * Opens a named shared-memory region as {@code mode} says.
     *
     * @param name the region's name: {@code /orders} or {@code orders} (see {@link #canonicalName(String)})
     * @param mode create, open, or either (see {@link OpenMode})
     * @param options the size and the other options; only those that apply to opening are read when the region exists
     * @return the open region; close it when done
     * @throws RegionException with the kind and the system's reason when it cannot
     */
    public static SharedRegion open(String name, OpenMode mode, RegionOptions options) {
        return open(platform -> Target.shm(platform.canonicalName(name, options.namespace())), mode, options, false);
    }

    /**
     * Opens a region kept in a file at {@code path} (created and sized on demand).
     *
     * @param path the file
     * @param mode create, open, or either (see {@link OpenMode})
     * @param options the size and the other options; only those that apply to opening are read when the region exists
     * @return the open region; close it when done
     * @throws RegionException with the kind and the system's reason when it cannot
     */
    public static SharedRegion openFile(Path path, OpenMode mode, RegionOptions options) {
        return open(platform -> Target.file(path.toAbsolutePath().toString()), mode, options, false);
    }

    /**
     * Maps a named shared-memory object as it is, with no panmap header (e.g. one made by a C program
     * or Python's {@code multiprocessing.shared_memory}). Creating modes create it with
     * {@code options.size()} bytes.
     *
     * @param name the region's name: {@code /orders} or {@code orders} (see {@link #canonicalName(String)})
     * @param mode create, open, or either (see {@link OpenMode})
     * @param options the size, when it is created
     * @return the open region; close it when done
     * @throws RegionException with the kind and the system's reason when it cannot
     */
    public static SharedRegion openRaw(String name, OpenMode mode, RegionOptions options) {
        return open(platform -> Target.shm(platform.canonicalName(name, options.namespace())), mode, options, true);
    }

    /**
     * Maps a plain file as it is, with no panmap header.
     *
     * @param path the file
     * @param mode create, open, or either (see {@link OpenMode})
     * @param options the size, when it is created
     * @return the open region; close it when done
     * @throws RegionException with the kind and the system's reason when it cannot
     */
    public static SharedRegion openRawFile(Path path, OpenMode mode, RegionOptions options) {
        return open(platform -> Target.file(path.toAbsolutePath().toString()), mode, options, true);
    }

    /**
     * Creates an anonymous region: a memory file with no name anywhere ({@code memfd_create}), gone
     * when the last process that has it closes it. Other processes get it only from this one, over a
     * Unix socket ({@link RegionSocket}); it is sealed so that no holder can shrink it (or grow it) and
     * make another fault. {@code options.size()} is required; huge pages, if asked for, come from the
     * hugetlb pool ({@code MFD_HUGETLB}).
     *
     * @param options the size (required) and the other options
     * @return the open region; close it when done
     * @throws RegionException {@link ErrorKind#NOT_SUPPORTED} on Windows, or what else the system refused
     */
    public static SharedRegion createAnonymous(RegionOptions options) {
        Platform platform = Platforms.current();
        String name = "memfd:panmap-" + platform.currentPid() + "-" + ANONYMOUS_COUNTER.incrementAndGet();
        Opener o = new Opener(platform, Target.shm(name), OpenMode.CREATE_ONLY, options, false);
        o.anonymous = true;
        return opened(o);
    }

    /**
     * As {@link #receive(Path, OpenMode, RegionOptions)}, read-write, with default options.
     *
     * @param socket the path of the sender's Unix socket
     * @return the open region; close it when done
     */
    public static SharedRegion receive(Path socket) {
        return receive(socket, OpenMode.OPEN_ONLY, RegionOptions.defaults());
    }

    /**
     * Attaches to an anonymous region that another process offers on the Unix socket at {@code socket}
     * ({@link RegionSocket}): connects, receives its descriptor ({@code SCM_RIGHTS}) and maps it as
     * {@link #open} maps a named region. The sender must run as this user or as root; it hands the
     * region only to the users it allows, and a refusal is a {@link ErrorKind#PERMISSION_DENIED}
     * with its reason. Waits up to {@code options.attachTimeout()} for the sender.
     *
     * @param mode {@link OpenMode#OPEN_ONLY} or {@link OpenMode#OPEN_READ_ONLY}
     * @param socket the path of the sender's Unix socket
     * @param options {@code attachTimeout()} and the mapping options
     * @return the open region; close it when done
     */
    public static SharedRegion receive(Path socket, OpenMode mode, RegionOptions options) {
        if (mode != OpenMode.OPEN_ONLY && mode != OpenMode.OPEN_READ_ONLY) {
            throw new IllegalArgumentException("a received region is opened OPEN_ONLY or OPEN_READ_ONLY, not " + mode);
        }
        Platform platform = Platforms.current();
        Platform.Received r = platform.receive(socket.toAbsolutePath().toString(), options.attachTimeout(), mode.writable());
        Opener o = new Opener(platform, Target.shm(printable(r.name())), mode, options, false);
        o.anonymous = true;
        o.handle = r.handle();
        return opened(o);
    }

    /** {@return a sender's name for its region, safe to print: no control characters, at most 255 characters} */
    private static String printable(String name) {
        String clean = name.codePoints().filter(c -> !Character.isISOControl(c))
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return clean.length() > 255 ? clean.substring(0, 255) : clean;
    }

    /** Opens what {@code o} describes; a refusal is also a Flight Recorder event ({@code dev.panmap.OpenRefused}). */
    private static SharedRegion opened(Opener o) {
        try {
            return o.open();
        } catch (RegionException e) {
            Events.openRefused(o.target.name(), o.mode.name(), e.kind().name(), e.getMessage());
            throw e;
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong ANONYMOUS_COUNTER = new java.util.concurrent.atomic.AtomicLong();

    private static SharedRegion open(java.util.function.Function<Platform, Target> target, OpenMode mode,
                                     RegionOptions options, boolean raw) {
        Platform platform = Platforms.current();
        return opened(new Opener(platform, target.apply(platform), mode, options, raw));
    }

    /**
     * Opens a named region through another backend than this machine's: for the tests that run the
     * Windows backend's Java code on Linux, over an emulation of kernel32.
     */
    static SharedRegion open(Platform platform, String name, OpenMode mode, RegionOptions options) {
        return opened(new Opener(platform, Target.shm(platform.canonicalName(name, options.namespace())), mode, options, false));
    }

    /** As {@link #open(Platform, String, OpenMode, RegionOptions)}, for a file region. */
    static SharedRegion openFile(Platform platform, Path path, OpenMode mode, RegionOptions options) {
        return opened(new Opener(platform, Target.file(path.toAbsolutePath().toString()), mode, options, false));
    }

    /**
     * Unlinks a named region. Processes still attached keep it until they close. On Windows a
     * page-file-backed region cannot be removed by name: it vanishes when its last handle closes; the
     * sentence returned says that it stays until then, or that it is gone already (so that the portable
     * close-then-remove does not fail there).
     *
     * @return what was done, in one sentence
     * @param name the region's name: {@code /orders} or {@code orders} (see {@link #canonicalName(String)})
     */
    public static String remove(String name) {
        Platform platform = Platforms.current();
        return platform.remove(Target.shm(platform.canonicalName(name)));
    }

    /**
     * Deletes a file region. Processes still attached keep it until they close.
     *
     * @return what was done, in one sentence
     * @param path the file
     */
    public static String removeFile(Path path) {
        return Platforms.current().remove(Target.file(path.toAbsolutePath().toString()));
    }

    /**
     * {@return the canonical form of a region name on this platform} (POSIX: one leading {@code /})
     *
     * @param name a region name, with or without its leading {@code /}
     */
    public static String canonicalName(String name) {
        return Platforms.current().canonicalName(name);
    }

    /** @param generation the header's generation, read before the size {@code mappingSize} came from (0 for raw regions) */
    SharedRegion(Opener o, long mappingAddress, long mappingSize, long span, long dataOffset, int attachCapacity,
                 Addressing addressing, boolean offsetFallback, long storedDataBase, long generation) {
        this.platform = o.platform;
        this.target = o.target;
        this.openMode = o.mode;
        this.created = o.created;
        this.raw = o.raw;
        this.handle = o.handle;
        this.mappingAddress = mappingAddress;
        this.mappingSize = mappingSize;
        this.span = span;
        this.dataOffset = dataOffset;
        this.addressing = addressing;
        this.offsetFallback = offsetFallback;
        this.selfPid = platform.currentPid();
        this.selfStartTime = platform.processStartTime(selfPid);
        boolean placedAnywhere = addressing != Addressing.DIRECT || offsetFallback; // a DIRECT base must be free at the next open
        this.batch = o.options.confinedToThread() || o.options.ownArena() || !placedAnywhere || !platform.closeKeepsRangeReadable()
            ? null : dev.panmap.internal.CloseBatch.join();
        this.arena = batch != null ? batch.arena() : o.options.confinedToThread() ? Arena.ofConfined() : Arena.ofShared();
        try {
            MemorySegment mapping = MemorySegment.ofAddress(mappingAddress).reinterpret(mappingSize, arena, ignored -> {
                if (mappingOwned) { // else the constructor failed and the opener unmaps it
                    unmapQuietly(o.platform, mappingAddress, this.mappingSize); // grown, maybe
                }
            });
            boolean readOnly = o.mode == OpenMode.OPEN_READ_ONLY;
            if (readOnly) {
                mapping = mapping.asReadOnly(); // a write to a PROT_READ page would kill the JVM: refuse it in Java
            }
            this.header = o.raw ? null : new Header(mapping.asSlice(0, dataOffset));
            this.mapping = mapping;
            this.data = mapping.asSlice(dataOffset, mappingSize - dataOffset);
            this.generation = generation; // never re-read here: a grow since then must look new to segment()
            this.references = new References(storedDataBase, mappingAddress + dataOffset);
            this.attachTable = this.header == null ? null
                : new AttachTable(this.header, attachCapacity, platform, handle, SLOT_LOCK_BYTE); // capacity as validated, never re-read
            this.writerLock = new WriterLock(this, platform, handle, this.header);
            this.anonymous = o.anonymous;
            this.pageFallback = o.pageFallback;
            this.owner = o.options.confinedToThread() ? Thread.currentThread() : null;
            if (offsetFallback) {
                Events.offsetFallback(target.name(), storedDataBase - dataOffset, mappingAddress);
            }
            if (pageFallback != null) {
                Events.hugePageFallback(target.name(), o.options.hugePageSize(), pageFallback);
            }
        } catch (RuntimeException | Error e) { // the opener unmaps and closes; the batch must not wait for this region
            if (batch != null) {
                batch.leave();
            }
            throw e;
        }
        this.mappingOwned = true;
    }

    /** Registers this process in the attach table (writable, non-raw regions only). */
    void attach() {
        if (attachTable != null && openMode.writable()) {
            attachSlot = attachTable.register(target.name(), selfPid, selfStartTime);
        }
    }

    /**
     * The arena's cleanup: unmaps. The mapping is replaced by a zero reservation that stays for the
     * life of the process ({@link Platform#unmap}), so a thread still following addresses into it reads
     * zeros (or a later region's bytes) but never faults; see {@code AddressBook}.
     */
    static void unmapQuietly(Platform platform, long address, long size) {
        try {
            platform.unmap(address, size);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "unmapping a region failed", e);
        }
    }


    // ====================================================================== using

    /**
     * {@return the data area, bounded to the region and valid until {@link #close()}} Read-only for
     * {@link OpenMode#OPEN_READ_ONLY}.
     */
    public MemorySegment segment() {
        checkOpen();
        if (header != null && header.getLongAcquire(GENERATION_OFFSET) != generation) {
            refresh(); // another process grew it: map the new part here
        }
        RegionException b = broken;
        if (b != null) {
            throw b;
        }
        return data;
    }

    // ====================================================================== growing

    /**
     * Grows the data area to {@code newSize} bytes (rounded up to pages), in place: every process's
     * mapping stays where it is, so DIRECT pointers (and OFFSET addresses) stay valid. Under the writer
     * lock (taken here if the calling thread does not hold it, waiting as long as it takes: see
     * {@link #tryGrow} for a bounded wait): the backing is reserved first ({@code posix_fallocate}: a
     * full file system fails the grow with {@code NO_SPACE} and leaves the region as it was), then the
     * new size and then the generation are published in the header with release stores. Other
     * processes map the new part on their next {@link #segment()} or {@link #refresh()}.
     *
     * <p>The region can grow up to the {@link #reservedSpan()} chosen at creation
     * ({@link RegionOptions#maxSize}); every process keeps that much address space from its first
     * mapping on. Shrinking is not offered: a process that still reads the old end would fault.
     *
     * <p>A {@link #close()} from another thread waits for a grow already mapping; a grow that starts
     * after the close, or finds it while waiting for the lock, throws {@link IllegalStateException}.
     *
     * @throws IllegalArgumentException for a size below the current one (shrinking)
     * @throws IllegalStateException if the region is closed, or was opened read-only
     * @throws RegionException {@code LIMIT_REACHED} beyond the reserved span, {@code NO_SPACE} when the
     *         backing cannot be reserved, {@code NOT_SUPPORTED} for Windows file regions and for raw regions
     * @param newSize the new size of the data area in bytes, rounded up to whole pages
     */
    public void grow(long newSize) {
        checkGrowable();
        boolean took = !writerLock.isHeldByCurrentThread();
        if (took) {
            writerLock.lock();
        }
        growHoldingLock(newSize, took);
    }

    /**
     * Grows as {@link #grow(long)} does, waiting at most {@code wait} for the writer lock (a process
     * that holds the lock, or only a read lock on its byte, can keep a grow waiting: see
     * {@link WriterLock}).
     *
     * @return {@code false} if the lock was not had in time; the region is then as it was
     * @throws InterruptedException if interrupted while waiting for the lock
     * @param newSize the new size of the data area in bytes, rounded up to whole pages
     * @param wait the longest wait for the writer lock
     */
    public boolean tryGrow(long newSize, java.time.Duration wait) throws InterruptedException {
        checkGrowable();
        boolean took = !writerLock.isHeldByCurrentThread();
        if (took && !writerLock.tryLock(wait)) {
            return false;
        }
        growHoldingLock(newSize, took);
        return true;
    }

    private void checkGrowable() {
        checkOpen();
        if (header == null) {
            throw new RegionException(ErrorKind.NOT_SUPPORTED, name() + " is a raw region: it has no header to publish a new size in");
        }
        if (!openMode.writable()) {
            throw new IllegalStateException("region " + name() + " was opened " + openMode + ": only a writable region can grow");
        }
    }

    /** @param took whether this call took the writer lock (and lets it go again) */
    private void growHoldingLock(long newSize, boolean took) {
        Object event = Events.growStarting();
        try {
            synchronized (this) {
                refreshLocked(); // checks the region is still open: a close waits for this block, never cuts into it
                long page = Math.max(platform.pageSize(), platform.pagePlan(handle).alignment()); // whole huge pages, if huge
                long target = dataOffset + (newSize + page - 1) / page * page;
                long current = mappingSize;
                if (newSize <= 0 || target < current) {
                    throw new IllegalArgumentException("shrinking is not offered: " + name() + " has " + (current - dataOffset)
                        + " data bytes, " + newSize + " asked (a process still reading the old end would fault)");
                }
                if (target == current) {
                    return;
                }
                if (target > span) {
                    throw new RegionException(ErrorKind.LIMIT_REACHED, name() + " cannot grow to " + (target - dataOffset) + " data bytes: its"
                        + " reserved span is " + (span - dataOffset) + " (RegionOptions.maxSize when it was created)");
                }
                long objectSize = platform.status(handle).size(); // more than current if an earlier grow died after extending
                if (objectSize < target) {
                    platform.extend(handle, Math.max(objectSize, current), target, true);
                }
                platform.mapMore(handle, mappingAddress, current, target, access(openMode));
                long next = header.getLongAcquire(GENERATION_OFFSET) + 1;
                header.publishGrowth(target, next);
                adopt(target, next);
                Events.grown(event, name(), current - dataOffset, target - dataOffset, next);
            }
        } finally {
            if (took) {
                writerLock.unlockAfterUse(); // quietly if a close took the lock from under us meanwhile
            }
        }
    }

    /**
     * Catches up with the region as it is now: maps what another process grew, and checks the backing
     * against the size (an object shrunk under the mapping, by someone truncating the file, makes the
     * region unusable here: this and every later {@link #segment()} throws {@code CORRUPT_REGION}
     * naming the sizes, and the missing part reads as zeros instead of faulting). A {@link #close()}
     * from another thread waits for a refresh under way.
     *
     * @throws IllegalStateException if the region is closed
     */
    public void refresh() {
        checkOpen();
        synchronized (this) {
            refreshLocked();
        }
    }

    /** Under this object's monitor, which {@link #close()} takes too: the region is open throughout. */
    private void refreshLocked() {
        checkOpen();
        RegionException b = broken;
        if (b != null) {
            throw b;
        }
        if (header == null) {
            return;
        }
        Header.Growth growth = header.growthAcquire(); // the generation, then a size at least its own
        long size = growth.size();
        long objectSize = platform.status(handle).size();
        if (objectSize < Math.max(size, mappingSize)) {
            long page = platform.pageSize();
            long keep = Math.min(mappingSize, (objectSize + page - 1) / page * page);
            if (keep < mappingSize) {
                platform.coverTruncated(handle, mappingAddress + keep, mappingSize - keep);
            }
            RegionException e = new RegionException(ErrorKind.CORRUPT_REGION, name() + " is truncated: its backing is " + objectSize
                + " bytes, the region " + Math.max(size, mappingSize) + " (someone shrank the file or object under it)");
            broken = e;
            throw e;
        }
        if (size > mappingSize) {
            if (size > span || size % platform.pageSize() != 0) {
                throw new RegionException(ErrorKind.CORRUPT_REGION, name() + " has an inconsistent header: current size " + size
                    + " is not whole pages within its reserved span " + span);
            }
            platform.mapMore(handle, mappingAddress, mappingSize, size, access(openMode));
            adopt(size, growth.generation());
        } else {
            generation = growth.generation();
        }
    }

    /**
     * Takes the mapping as {@code size} bytes long. The mapping size first: it is what the arena's
     * cleanup unmaps (the whole span is kept anyway), and nothing handed out may lie past it.
     */
    private void adopt(long size, long gen) {
        MemorySegment m = MemorySegment.ofAddress(mappingAddress).reinterpret(size, arena, null);
        if (openMode == OpenMode.OPEN_READ_ONLY) {
            m = m.asReadOnly();
        }
        mappingSize = size;
        mapping = m;
        data = m.asSlice(dataOffset, size - dataOffset);
        generation = gen;
    }

    static Access access(OpenMode mode) {
        return switch (mode) {
            case OPEN_READ_ONLY -> Access.READ_ONLY;
            case OPEN_COPY_ON_WRITE -> Access.COPY_ON_WRITE;
            default -> Access.READ_WRITE;
        };
    }

    /** {@return the most the region (header included) may grow to: the address space every process keeps} */
    public long reservedSpan() {
        return span;
    }

    /** {@return the generation this process has mapped: 1 at creation, +1 per growth} */
    public long generation() {
        return generation;
    }

    /**
     * {@return whether the region is open and whole here}: false after {@link #close()}, and after a
     * {@link #refresh()} found its backing shrunk under the mapping (then {@link #segment()} says so)
     */
    public boolean isUsable() {
        return !closed.get() && broken == null;
    }

    /** {@return the references of this region in this process (how to store and follow pointers)} */
    public References references() {
        return references;
    }

    /**
     * {@return the address in this process of data-area offset {@code offset}}
     *
     * @param offset an offset in the data area, {@code 0} to {@link #size()}
     */
    public long address(long offset) {
        Objects.checkIndex(offset, data.byteSize() + 1);
        return mappingAddress + dataOffset + offset;
    }

    /**
     * {@return the data-area offset of an address inside this process's mapping of the data area}
     *
     * @param address an address in this process's mapping of the data area
     */
    public long offset(long address) {
        long offset = address - (mappingAddress + dataOffset);
        if (offset < 0 || offset > data.byteSize()) {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is outside the data area of " + name());
        }
        return offset;
    }

    /** {@return the writer lock} */
    public WriterLock writerLock() {
        return writerLock;
    }

    /** Writes the whole region back to its backing store and waits ({@code msync(MS_SYNC)}). */
    public void force() {
        usingMapping(() -> platform.flush(mapping, true));
    }

    /**
     * Writes {@code [offset, offset+length)} of the data area back and waits.
     *
     * @param offset where the range starts in the data area
     * @param length its length in bytes
     */
    public void force(long offset, long length) {
        flushRange(offset, length, true);
    }

    /** Starts writing the whole region back without waiting ({@code msync(MS_ASYNC)}). */
    public void forceAsync() {
        usingMapping(() -> platform.flush(mapping, false));
    }

    /**
     * Starts writing {@code [offset, offset+length)} of the data area back without waiting.
     *
     * @param offset where the range starts in the data area
     * @param length its length in bytes
     */
    public void forceAsync(long offset, long length) {
        flushRange(offset, length, false);
    }

    private void flushRange(long offset, long length, boolean sync) {
        usingMapping(() -> {
            Objects.checkFromIndexSize(offset, length, data.byteSize());
            platform.flush(pages(offset, length), sync);
        });
    }

    /**
     * Runs a native call on the mapping, the region open throughout: a {@link #close()} waits for it
     * (with a region's own arena the JDK makes it wait too, as the call holds the arena; a batch's
     * arena is not closed by the region's close, which retires the mapping instead).
     */
    private void usingMapping(Runnable call) {
        nativeUsers.incrementAndGet(); // before the check: a close that sets closed after it sees this count
        try {
            checkOpen();
            call.run();
        } finally {
            nativeUsers.decrementAndGet();
        }
    }

    /** {@return the slice of the mapping covering data-area {@code [offset, offset+length)}, widened to whole pages at the start} */
    private MemorySegment pages(long offset, long length) {
        long from = dataOffset + offset;
        long start = from - from % platform.pageSize(); // the mapping itself starts on a page
        return mapping.asSlice(start, from + length - start);
    }

    /**
     * Gives the system an access-pattern hint for the whole data area.
     *
     * @param advice how the data will be accessed
     */
    public void advise(Advice advice) {
        advise(advice, 0, data.byteSize());
    }

    /**
     * Gives the system an access-pattern hint for {@code [offset, offset+length)} of the data area.
     *
     * @param advice how the data will be accessed
     * @param offset where the range starts in the data area
     * @param length its length in bytes
     */
    public void advise(Advice advice, long offset, long length) {
        usingMapping(() -> {
            Objects.checkFromIndexSize(offset, length, data.byteSize());
            platform.advise(pages(offset, length), Platform.Advice.valueOf(advice.name()));
        });
    }

    /** Locks the whole mapping into RAM ({@code mlock}); fails with the system's reason (e.g. RLIMIT_MEMLOCK). */
    public void lockInMemory() {
        usingMapping(() -> platform.lockMemory(mapping));
    }

    /** Undoes {@link #lockInMemory()}. */
    public void unlockFromMemory() {
        usingMapping(() -> platform.unlockMemory(mapping));
    }

    // ====================================================================== describing

    /** {@return the canonical name (shm) or absolute path (file)} */
    public String name() {
        return target.name();
    }

    /** {@return what backs this region: named shared memory, a file, or an anonymous memory file} */
    public Backing backing() {
        return anonymous ? Backing.ANONYMOUS : target.file() ? Backing.FILE : Backing.SHARED_MEMORY;
    }

    /**
     * {@return the pages that back this region's mapping in this process}, read from the kernel
     * ({@code /proc/self/smaps}): the page size in effect, not the one asked for. Only pages this
     * process has touched are resident here; {@code panmap inspect} asks {@link #pageUsage(long)}, which
     * first maps in what is resident already.
     * Empty where the system does not say (Windows).
     */
    public Optional<PageUsage> pageUsage() {
        return pageUsage(0);
    }

    /**
     * {@link #pageUsage()}, after mapping into this process, for a look, the pages of the data area's
     * first {@code sample} bytes that are in memory already: one read per 2 MiB, each only where
     * {@code mincore} says the page is resident, so that nothing is allocated or read from disk and a
     * sparse region stays sparse (a read of a hole of a shared-memory object would allocate a page).
     * The kernel then reports the page size in effect, transparent huge pages included. For tools
     * ({@code panmap inspect}); {@code pageUsage(0)} is {@link #pageUsage()}.
     *
     * @param sample how many bytes from the data area's start to map in for the look
     * @return what the kernel reports, or empty where it reports nothing
     */
    public Optional<PageUsage> pageUsage(long sample) {
        checkOpen();
        MemorySegment data = segment();
        long step = PageUsage.TRANSPARENT_HUGE_PAGE_SIZE;
        for (long at = 0; at < Math.min(sample, data.byteSize()); at += step) {
            MemorySegment page = data.asSlice(at, Math.min(platform.pageSize(), data.byteSize() - at));
            if (page.address() % platform.pageSize() == 0 && platform.resident(page)) {
                page.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0);
            }
        }
        checkOpen();
        return Optional.ofNullable(platform.pageUsage(mappingAddress, mappingSize));
    }

    /**
     * {@return why the huge pages {@linkplain HugePages#PREFERRED preferred} at creation are not the ones
     * asked for (hugetlb pages fell back to transparent or ordinary ones, or there were none), if so}
     */
    public Optional<String> pageFallback() {
        return Optional.ofNullable(pageFallback);
    }

    Platform platform() {
        return platform;
    }

    Platform.Handle handle() {
        checkOpen();
        return handle;
    }

    /** {@return whether this region has no panmap header (opened raw)} */
    public boolean isRaw() {
        return raw;
    }

    /** {@return the mode this region was opened with} */
    public OpenMode openMode() {
        return openMode;
    }

    /** {@return whether this call created the region} */
    public boolean created() {
        return created;
    }

    /** {@return the size of the data area in bytes (the requested size rounded up to pages, or grown since)} */
    public long size() {
        return data.byteSize();
    }

    /** {@return the offset of the data area from the start of the region (the header size)} */
    public long dataOffset() {
        return dataOffset;
    }

    /** {@return the whole mapped size, header included} */
    public long regionSize() {
        return mappingSize;
    }

    /** {@return how the region stores references (its mode, as created)} */
    public Addressing addressing() {
        return addressing;
    }

    /** {@return whether this DIRECT region is mapped away from its base here, with translated references} */
    public boolean isOffsetFallback() {
        return offsetFallback;
    }

    /** {@return where the region starts in this process} */
    public long baseAddress() {
        return mappingAddress;
    }

    /** {@return the base address recorded in the header (DIRECT), or 0} */
    public long recordedBaseAddress() {
        return header == null ? 0 : header.getLong(BASE_ADDRESS_OFFSET);
    }

    /** {@return the header layout version (0 for raw regions)} */
    public int layoutVersion() {
        return header == null ? 0 : header.getInt(VERSION_OFFSET);
    }

    /** {@return the permission bits of the shared object or file, as the system reports them now} */
    public Permissions permissions() {
        checkOpen();
        return new Permissions(platform.status(handle).permissions());
    }

    /**
     * {@return the user (POSIX uid) that owns the shared object or file, as the system reports it now;
     * -1 where the system has no such owner (Windows)} With {@link #permissions()}, what a process
     * that opened another user's region ({@link RegionOptions#trustedOwners(int...)}) checks before it
     * trusts what it reads.
     */
    public int ownerUid() {
        checkOpen();
        return platform.status(handle).ownerUid();
    }

    /** {@return the process that created the region, if recorded} */
    public Optional<ProcessInfo> creator() {
        if (header == null) {
            return Optional.empty();
        }
        int pid = header.getInt(CREATOR_PID_OFFSET);
        long start = header.getLong(CREATOR_START_OFFSET);
        return Optional.of(dev.panmap.internal.ProcessStamp.info(platform, dev.panmap.internal.ProcessStamp.of(pid, start), start));
    }

    /** {@return when the region was created, if recorded} */
    public Optional<Instant> createdAt() {
        return header == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(header.getLong(CREATED_MILLIS_OFFSET)));
    }

    /** {@return the capacity of the attached-process table (0 for raw regions)} */
    public int maxAttached() {
        return attachTable == null ? 0 : attachTable.capacity();
    }

    /**
     * {@return the processes in the attached-process table}, each with whether it is alive (a dead
     * one's slot is reclaimed at the next attach). Read-only and copy-on-write attaches are not in it.
     */
    public List<ProcessInfo> attachedProcesses() {
        checkOpen();
        return attachTable == null ? List.of() : attachTable.list();
    }

    /**
     * {@return who holds the region's lock bytes now, as the system reports it}: the writer lock's byte
     * and the attach slots' bytes, one entry per holder of each, writer lock first. Locks of this
     * region object's own descriptor are not listed. A read ({@link LockHolding#exclusive() shared}) lock
     * is not panmap's: a process with read access put it there, and it keeps writers (or attaches) out
     * while it stays. Empty where the system cannot say (Windows). For tools ({@code panmap inspect}).
     */
    public List<LockHolding> lockHoldings() {
        checkOpen();
        List<LockHolding> out = new java.util.ArrayList<>();
        for (Platform.ByteLock l : platform.locksHeld(handle, WRITER_LOCK_BYTE, 1)) {
            out.add(new LockHolding(-1, l.exclusive(), l.pid()));
        }
        if (attachTable != null) {
            for (Platform.ByteLock l : platform.locksHeld(handle, SLOT_LOCK_BYTE, attachTable.capacity())) {
                out.add(new LockHolding((int) (l.offset() - SLOT_LOCK_BYTE), l.exclusive(), l.pid()));
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "SharedRegion[" + name() + ", " + backing() + (raw ? ", raw" : ", " + addressing + (offsetFallback ? " (offset fallback)" : ""))
            + ", " + size() + " bytes at 0x" + Long.toHexString(mappingAddress + dataOffset) + (closed.get() ? ", closed" : "") + "]";
    }

    // ====================================================================== closing

    /** {@return whether {@link #close()} was called} */
    public boolean isClosed() {
        return closed.get();
    }

    void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("region " + name() + " is closed");
        }
    }

    int selfPid() {
        return selfPid;
    }

    long selfStartTime() {
        return selfStartTime;
    }

    /**
     * Releases the writer lock if a thread of this object holds it, leaves the attach table, unmaps
     * and closes the descriptor. Idempotent. Does not remove the region: see {@link #remove(String)}.
     */
    @Override
    public void close() {
        if (owner != null && Thread.currentThread() != owner) { // before anything changes: the arena would refuse half-way
            throw new WrongThreadException("region " + name() + " is confined to thread " + owner.getName() + " (RegionOptions.confinedToThread)");
        }
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // a grow or refresh already mapping finishes first (it holds this monitor); any later one, and
        // any waiting for the monitor, finds the region closed: none can map into a range this close
        // gives back, which another region may take at once
        try {
            closeHoldingMonitor();
        } finally {
            if (batch != null) {
                batch.leave(); // the last region of a full batch closes its arena: one handshake per batch
            }
        }
    }

    private synchronized void closeHoldingMonitor() {
        try {
            writerLock.abandon(); // if a thread here holds it: clears the holder record; the OS lock stays until the fd closes
            dev.panmap.internal.TestPoints.hit("close.afterAbandon");
            if (attachSlot >= 0) {
                attachTable.deregister(attachSlot, selfPid, selfStartTime);
            }
        } finally {
            try {
                if (batch == null) {
                    closeArena(); // unmaps; other threads' accesses now fail with IllegalStateException
                } else {
                    retire(); // zero pages in place of the object's; segments fail when the batch's arena closes
                }
            } finally {
                // only now, with this process's mapping gone, can another process take the writer
                // lock: a thread of ours that was still writing can no longer land a late store
                platform.close(handle);
            }
        }
    }

    /**
     * Takes the mapping out of use once no native call of ours is using it: private zero pages replace
     * the object's ({@code Platform.retire}), so the descriptor can close now and a late store through
     * a segment handed out lands nowhere that anyone else sees.
     */
    private void retire() {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (nativeUsers.get() != 0) {
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException("region " + name() + " cannot be unmapped: its memory is still in use by a native call");
            }
            LockSupport.parkNanos(100_000);
        }
        platform.retire(handle, mappingAddress, mappingSize, openMode != OpenMode.OPEN_READ_ONLY);
    }

    /**
     * Closes the arena. A native call of ours that is using the mapping (force, advise, mlock get
     * the arena's segment, so the mapping cannot go away under them) makes close wait for it.
     */
    private void closeArena() {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                arena.close();
                return;
            } catch (IllegalStateException inUse) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new IllegalStateException("region " + name() + " cannot be unmapped: its memory is still in use by a native call", inUse);
                }
                LockSupport.parkNanos(100_000);
            }
        }
    }
}
