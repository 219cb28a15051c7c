package dev.panmap;

import static dev.panmap.internal.RegionLayout.*;

import dev.panmap.internal.Header;
import dev.panmap.internal.PagePlan;
import dev.panmap.internal.Platform;
import dev.panmap.internal.Platform.Access;
import dev.panmap.internal.Platform.Target;
import dev.panmap.internal.RegionLayout;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

/** Opening, step by step; owns the handle until the region is built. */
final class Opener {
    private static final System.Logger LOG = System.getLogger("dev.panmap");

    final Platform platform;
    final Target target;
    final OpenMode mode;
    final RegionOptions options;
    final boolean raw;
    Platform.Handle handle;
    boolean created;
    long spanKept; // the address space the mapping keeps (for the cleanup of a failed open)
    boolean anonymous;     // a memfd: created here, or received (then handle is set before open())
    String pageFallback;
    boolean creationLocked; // this creator holds the writer lock while it writes the header (see creationLock())

    Opener(Platform platform, Target target, OpenMode mode, RegionOptions options, boolean raw) {
        this.platform = platform;
        this.target = target;
        this.mode = Objects.requireNonNull(mode, "mode");
        this.options = Objects.requireNonNull(options, "options");
        this.raw = raw;
    }

    SharedRegion open() {
        if (mode.creates() && options.size() <= 0) {
            throw new IllegalArgumentException("creating " + target.name() + " needs a size: RegionOptions.size(bytes)");
        }
        long headerSize = raw ? 0 : RegionLayout.headerSize(options.maxAttached(), platform.pageSize());
        long createSize = mode.creates() ? headerSize + pageRound(options.size()) : 0;
        PagePlan plan = null;
        if (mode.creates()) {
            plan = platform.planPages(anonymous ? null : target, options.hugePages(), options.hugePageSize());
            createSize = plan.round(createSize); // whole huge pages, header included
            long span = raw ? createSize : spanFor(createSize, headerSize, plan);
            if (options.size() > MAX_RESERVED_SPAN || span > MAX_RESERVED_SPAN || createSize > MAX_RESERVED_SPAN) {
                throw new IllegalArgumentException("creating " + target.name() + ": " + Math.max(span, createSize) + " bytes with the header"
                    + " (size " + options.size() + ", maxSize " + options.maxSize() + ") are more than a region may span, "
                    + MAX_RESERVED_SPAN + " bytes (32 TiB) with the header: an attach refuses a larger one");
            }
        }
        if (anonymous && handle == null) {
            String memfdName = target.name().substring(target.name().indexOf(':') + 1); // the kernel adds "memfd:"
            // sealed against growing only when it cannot grow (no maxSize): a region that may grow seals only shrinking
            handle = platform.createAnonymous(memfdName, createSize, creation(plan, createSize), plan,
                options.hugePages() == dev.panmap.HugePages.PREFERRED, options.maxSize() == 0);
            created = true;
            plan = platform.pagePlan(handle); // the fallback, if it fell back
        } else if (handle == null) {
            openHandle(createSize, plan);
        }
        if (created) {
            pageFallback = plan.fallback();
            if (pageFallback != null) {
                LOG.log(System.Logger.Level.INFO, "{0}: the preferred huge pages fell back: {1}", target.name(), pageFallback);
            }
            if (plan.transparent()) {
                platform.useTransparentHugePages(handle); // every map of it now asks for them
            }
        }
        long mapped = 0;
        long size = 0;
        SharedRegion region = null;
        try {
            if (!created && !anonymous) {
                checkOwner();
            }
            if (raw) {
                size = created ? createSize : platform.status(handle).size();
                if (size == 0) {
                    throw new RegionException(ErrorKind.INVALID_ARGUMENT, target.name() + " is empty: nothing to map");
                }
                mapped = platform.map(handle, size, access(), 0, options.populate());
                region = new SharedRegion(this, mapped, size, size, 0, 0, Addressing.OFFSET, false, 0, 0);
            } else if (created) {
                long dataSize = createSize - headerSize;
                size = createSize;
                long span = spanFor(size, headerSize, plan);
                boolean direct = options.addressing() == Addressing.DIRECT;
                mapped = direct ? mapAtFreeBase(size, span, plan.alignment()) : platform.map(handle, size, span, Access.READ_WRITE, 0, options.populate());
                spanKept = span;
                if (plan.transparent() && options.reserve()) {
                    reserveByTouching(mapped, size);
                }
                Header h = new Header(MemorySegment.ofAddress(mapped).reinterpret(headerSize));
                writeHeader(h, headerSize, dataSize, span, direct ? mapped : 0);
                if (target.file()) { // a new file region survives a power loss from here on
                    platform.flush(h.segment(), true);
                    platform.makeDurable(handle, target);
                }
                if (creationLocked) { // published: attachers no longer look at the creator
                    platform.unlockWriter(handle);
                    creationLocked = false;
                }
                region = new SharedRegion(this, mapped, size, span, headerSize, options.maxAttached(), options.addressing(), false,
                    direct ? mapped + headerSize : headerSize, 1);
            } else {
                Validated v = validate();
                size = v.regionSize;
                if (options.hugePages() != dev.panmap.HugePages.NONE) { // the header does not say: this process asks
                    platform.useTransparentHugePages(handle);
                }
                spanKept = v.span;
                boolean direct = v.addressing == Addressing.DIRECT;
                boolean fallback = false;
                if (direct) {
                    try {
                        mapped = platform.map(handle, size, v.span, access(), v.base, options.populate());
                    } catch (NativeException e) {
                        if (e.kind() != ErrorKind.ADDRESS_IN_USE || !options.allowOffsetFallback()) {
                            throw e;
                        }
                        mapped = platform.map(handle, size, v.span, access(), 0, options.populate());
                        fallback = true;
                        LOG.log(System.Logger.Level.DEBUG, "DIRECT region {0}: base 0x{1} is taken in this process ({2}); "
                            + "mapped at 0x{3} instead, references are translated (offset fallback)",
                            target.name(), Long.toHexString(v.base), e.errorMessage(), Long.toHexString(mapped));
                    }
                } else {
                    mapped = platform.map(handle, size, v.span, access(), 0, options.populate());
                }
                region = new SharedRegion(this, mapped, size, v.span, v.headerSize, v.attachCapacity, v.addressing, fallback,
                    direct ? v.base + v.headerSize : v.headerSize, v.generation);
            }
            mapped = 0; // the region's arena owns the mapping now
            region.attach();
            if (options.lockInMemory()) {
                region.lockInMemory();
            }
            return region;
        } catch (RuntimeException | Error e) {
            // what a failed create made is removed while its descriptor is still open, so that the name
            // is removed only if it still names that object (someone may have made another under it)
            if (created && !anonymous) {
                try {
                    dev.panmap.internal.TestPoints.hit("create.beforeRemove");
                    platform.removeIfSame(target, handle);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (region != null) {
                region.close(); // unmaps and closes the descriptor
            } else {
                if (mapped != 0) {
                    SharedRegion.unmapQuietly(platform, mapped, spanKept);
                }
                platform.close(handle);
            }
            throw e;
        }
    }

    private Access access() {
        return SharedRegion.access(mode);
    }

    private long pageRound(long bytes) {
        long page = platform.pageSize();
        return (bytes + page - 1) / page * page;
    }

    /**
     * What a new object is made with. Transparent huge pages are not reserved by {@code fallocate},
     * which would take small pages before the mapping asks for huge ones: {@link #reserveByTouching}
     * does it after.
     */
    private Platform.Creation creation(PagePlan plan, long createSize) {
        boolean reserve = options.reserve() && (plan == null || !plan.transparent());
        long headerSize = raw ? 0 : RegionLayout.headerSize(options.maxAttached(), platform.pageSize());
        return new Platform.Creation(options.permissions().mode(), reserve, options.security(),
            raw || plan == null ? createSize : spanFor(createSize, headerSize, plan));
    }

    /** {@return the address space a new region keeps: its size, or header + maxSize, in whole (huge) pages} */
    private long spanFor(long size, long headerSize, PagePlan plan) {
        long span = Math.max(size, options.maxSize() == 0 ? 0 : headerSize + pageRound(options.maxSize()));
        return plan.round(span); // a huge-page region grows in whole huge pages too
    }

    /**
     * Reserves a new region's memory through its mapping, which asked for transparent huge pages:
     * one store of zero per page (a fresh object is all zeros), so the kernel allocates each 2 MiB
     * at its first fault where it can. A full file system is {@code NO_SPACE} here, as
     * {@code fallocate} would report it, not a fault later.
     */
    private void reserveByTouching(long address, long size) {
        MemorySegment all = MemorySegment.ofAddress(address).reinterpret(size);
        long page = platform.pageSize();
        try {
            for (long at = 0; at < size; at += page) {
                all.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at, (byte) 0);
            }
        } catch (InternalError fault) {
            throw new RegionException(ErrorKind.NO_SPACE, target.name() + ": the file system has no room for " + size
                + " bytes (a page fault failed while reserving them)", fault);
        }
    }

    private void openHandle(long createSize, PagePlan plan) {
        Platform.Creation creation = creation(plan, createSize);
        switch (mode) {
            case CREATE_ONLY -> {
                handle = platform.create(target, createSize, creation);
                created = true;
                creationLock();
            }
            case OPEN_OR_CREATE -> {
                for (int attempt = 0; ; attempt++) {
                    try {
                        handle = platform.create(target, createSize, creation);
                        created = true;
                        creationLock();
                        return;
                    } catch (NativeException e) {
                        if (e.kind() != ErrorKind.ALREADY_EXISTS) {
                            throw e;
                        }
                    }
                    try {
                        handle = platform.open(target, true);
                        return;
                    } catch (NativeException e) { // removed between the two calls: try again
                        if (e.kind() != ErrorKind.NOT_FOUND || attempt >= 10) {
                            throw e;
                        }
                    }
                }
            }
            default -> handle = platform.open(target, mode.writable());
        }
    }

    /**
     * The ownership rules of an existing object (see {@link RegionOptions#trustedOwners(int...)}), checked
     * on the open descriptor before a byte of it is read: {@code OPEN_OR_CREATE} adopts only an object
     * of this process's user with a mode no wider than it asked for, or one of a trusted owner; the
     * other modes, given trusted owners, open only theirs or this user's.
     */
    private void checkOwner() {
        int self = platform.currentUid();
        Platform.Status status = platform.statusAtOpen(handle); // the object this descriptor opened, as it was then
        int owner = status.ownerUid();
        if (self < 0 || owner < 0) {
            return; // no POSIX owner (Windows): its access list decides
        }
        java.util.Set<Integer> trusted = options.trustedOwners();
        if (trusted.contains(owner)) {
            return;
        }
        String what = target.name() + " exists, owned by uid " + owner + " with mode " + new Permissions(status.permissions() & 0777)
            + (status.permissions() > 0777 ? " (and bits 0" + Integer.toOctalString(status.permissions() & 07000) + ")" : "");
        String trust = trusted.isEmpty() ? "no trusted owners are named" : "trusted owners: uid " + trusted.stream().map(String::valueOf)
            .reduce((a, b) -> a + ", " + b).orElseThrow();
        if (mode == OpenMode.OPEN_OR_CREATE) {
            int asked = options.permissions().mode();
            if (owner != self) {
                throw new RegionException(ErrorKind.PERMISSION_DENIED, what + "; OPEN_OR_CREATE expected an object of this process's uid "
                    + self + " with mode " + options.permissions() + " at most (" + trust + "): another user made it first, and would"
                    + " read and write what this process puts in it. Name its owner in RegionOptions.trustedOwners to adopt it,"
                    + " or open it with OPEN_ONLY");
            }
            if ((status.permissions() & ~asked) != 0) {
                throw new RegionException(ErrorKind.PERMISSION_DENIED, what + ", wider than the " + options.permissions()
                    + " OPEN_OR_CREATE asked for (bits 0" + Integer.toOctalString(status.permissions() & ~asked)
                    + " are more): others could read or write it. Remove it, ask for its mode, or list this uid (" + self
                    + ") in RegionOptions.trustedOwners to adopt it as it is");
            }
        } else if (!trusted.isEmpty() && owner != self) {
            throw new RegionException(ErrorKind.PERMISSION_DENIED, what + "; expected an object of this process's uid " + self
                + " or of a trusted owner (" + trust + ")");
        }
    }

    /**
     * A new panmap object's creator holds its writer lock until the header is published (taken before
     * the creator pid is written, released after the magic): an attacher that finds a creator pid but
     * no magic knows from the kernel whether the creator is still at work or died
     * ({@link #creatorGone}), with no pid compared, so across pid namespaces too. Nobody else can hold
     * it yet: attachers do not lock before the header is there.
     */
    private void creationLock() {
        if (!raw && platform.kernelLiveness(handle)) {
            creationLocked = platform.tryLockWriter(handle);
        }
    }

    /** {@return whether the creator that wrote pid {@code creator} into a header without magic is gone} */
    private boolean creatorGone(int creator) {
        return platform.kernelLiveness(handle) ? !platform.lockedElsewhere(handle, WRITER_LOCK_BYTE) : !platform.processExists(creator);
    }

    /** Maps a new DIRECT region (keeping {@code span}) at the requested base, or at the first free slot from the default. */
    private long mapAtFreeBase(long size, long span, long pageAlignment) {
        long alignment = Math.max(platform.baseAlignment(), pageAlignment);
        if (options.baseAddress() != 0) {
            if (options.baseAddress() % alignment != 0) {
                throw new IllegalArgumentException("base address 0x" + Long.toHexString(options.baseAddress())
                    + " is not aligned to " + alignment + " bytes");
            }
            return platform.map(handle, size, span, Access.READ_WRITE, options.baseAddress(), options.populate());
        }
        long step = Math.max(1L << 36, (span + (1L << 36) - 1) & -(1L << 36)); // 64 GiB slots
        NativeException last = null;
        for (int i = 0; i < 64; i++) {
            try {
                return platform.map(handle, size, span, Access.READ_WRITE, platform.defaultDirectBase() + i * step, options.populate());
            } catch (NativeException e) {
                if (e.kind() != ErrorKind.ADDRESS_IN_USE) {
                    throw e;
                }
                last = e;
            }
        }
        throw last;
    }

    private void writeHeader(Header h, long headerSize, long dataSize, long span, long base) {
        int pid = platform.currentPid();
        h.putIntRelease(CREATOR_PID_OFFSET, pid); // first: a waiter can tell a dead creator
        h.putInt(VERSION_OFFSET, LAYOUT_VERSION);
        h.putInt(HEADER_SIZE_OFFSET, (int) headerSize);
        h.putLong(REGION_SIZE_OFFSET, headerSize + dataSize);
        h.putLong(DATA_SIZE_OFFSET, dataSize);
        h.putInt(ADDRESSING_OFFSET, base != 0 ? ADDRESSING_DIRECT_MODE : ADDRESSING_OFFSET_MODE);
        h.putInt(PERMISSIONS_OFFSET, options.permissions().mode());
        h.putLong(BASE_ADDRESS_OFFSET, base);
        h.putLong(RESERVED_SPAN_OFFSET, span);
        h.putLong(CURRENT_SIZE_OFFSET, headerSize + dataSize);
        h.putLong(GENERATION_OFFSET, 1);
        h.putInt(ATTACH_CAPACITY_OFFSET, options.maxAttached());
        h.putLong(CREATOR_START_OFFSET, platform.processStartTime(pid));
        h.putLong(CREATED_MILLIS_OFFSET, System.currentTimeMillis());
        h.putInt(FLAGS_OFFSET, 0);
        h.putInt(CHECKSUM_OFFSET, RegionLayout.checksum(h.segment()));
        dev.panmap.internal.TestPoints.hit("create.beforePublish");
        h.publishMagicRelease();
    }

    /** What an attach trusts of a header: {@code regionSize} is the current size (grown, maybe), {@code span} the most it may grow to. */
    private record Validated(long headerSize, long regionSize, long span, int attachCapacity, Addressing addressing, long base,
                             long generation) {}

    /** Reads and checks the header through a read-only peek mapping; never writes. */
    private Validated validate() {
        long deadline = System.nanoTime() + options.attachTimeout().toNanos();
        long pause = 100_000;
        String what = target.name();
        boolean first = true;
        while (true) {
            Platform.Status status = first ? platform.statusAtOpen(handle) : platform.status(handle); // a wait looks again
            first = false;
            long size = status.size();
            if (status.links() == 0 && !anonymous) { // removed since we opened it (a failed create cleans up so); a memfd never has a name
                throw new RegionException(ErrorKind.NOT_FOUND, what + " was removed while this process waited for its header"
                    + " (its creation failed, or someone removed it)");
            }
            String waitingFor;
            if (size < MIN_HEADER_SIZE) {
                if (size != 0) {
                    throw new RegionException(ErrorKind.CORRUPT_REGION, what + " is " + size
                        + " bytes, smaller than a panmap header (" + MIN_HEADER_SIZE + "): truncated, or not a panmap region");
                }
                waitingFor = what + " is empty (0 bytes): not a panmap region, or its creator has not sized it yet";
            } else {
                // a hugetlb mapping is made and unmade in whole huge pages
                long peekSize = Math.min(size, Math.max(platform.pageSize(), platform.pagePlan(handle).hugetlbPageSize()));
                long peek = platform.mapTransient(handle, peekSize);
                try {
                    Header h = new Header(MemorySegment.ofAddress(peek).reinterpret(peekSize));
                    long magic = h.magicAcquire();
                    if (magic == MAGIC) {
                        return check(h);
                    }
                    if (magic != 0) {
                        throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, what + " is not a panmap region (its first 8 bytes are 0x"
                            + Long.toHexString(magic) + ", a panmap header starts with 0x" + Long.toHexString(MAGIC) + ")");
                    }
                    int creator = h.getIntAcquire(CREATOR_PID_OFFSET);
                    if (creator != 0 && creatorGone(creator)) {
                        if (h.magicAcquire() == MAGIC) { // it finished and let go just now
                            return check(h);
                        }
                        throw new RegionException(ErrorKind.CORRUPT_REGION, what + " was never finished: its creator (pid "
                            + creator + ") died during creation; remove it and create it again");
                    }
                    waitingFor = what + " has no panmap header yet" + (creator != 0 ? " (creator pid " + creator + " is still writing it)"
                        : ": not a panmap region, or its creation is in progress");
                } finally {
                    platform.unmap(peek, peekSize);
                }
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, waitingFor + " (waited " + options.attachTimeout().toMillis() + " ms)");
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 10_000_000);
        }
    }

    private Validated check(Header h) {
        String what = target.name();
        int version = h.getInt(VERSION_OFFSET);
        if (version != LAYOUT_VERSION) {
            throw new RegionException(ErrorKind.INCOMPATIBLE_REGION, what + " has header layout version " + version
                + "; this panmap reads version " + LAYOUT_VERSION);
        }
        int stored = h.getInt(CHECKSUM_OFFSET);
        int actual = RegionLayout.checksum(h.segment());
        if (stored != actual) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, what + " has a damaged header: checksum 0x"
                + Integer.toHexString(stored) + " stored, 0x" + Integer.toHexString(actual) + " computed");
        }
        long headerSize = Integer.toUnsignedLong(h.getInt(HEADER_SIZE_OFFSET));
        long regionSize = h.getLong(REGION_SIZE_OFFSET);
        long dataSize = h.getLong(DATA_SIZE_OFFSET);
        int capacity = h.getInt(ATTACH_CAPACITY_OFFSET);
        int addressingCode = h.getInt(ADDRESSING_OFFSET);
        long base = h.getLong(BASE_ADDRESS_OFFSET);
        long span = h.getLong(RESERVED_SPAN_OFFSET);
        // mutable: grow() publishes the size, then the generation. The generation first, then the size:
        // the size is at least that generation's, so a grow published after this is seen by segment()
        Header.Growth growth = h.growthAcquire();
        long current = growth.size();
        dev.panmap.internal.TestPoints.hit("attach.afterSize");
        // the object's size only now, after the current size: a grow extends the object before it
        // publishes the size, so a size read before this load may predate it (a false "truncated")
        long objectSize = platform.status(handle).size();
        long page = platform.pageSize();
        String bad = null;
        // every sum below is checked: a forged size near 2^63 must not wrap into something that passes
        if (capacity < 1 || capacity > MAX_ATTACH_CAPACITY || headerSize != RegionLayout.headerSize(capacity, page)) {
            bad = "header size " + headerSize + " does not match its attach table of " + capacity + " slots";
        } else if (dataSize <= 0 || dataSize % page != 0 || dataSize > Long.MAX_VALUE - headerSize
                   || regionSize != headerSize + dataSize) {
            bad = "region size " + regionSize + " is not header " + headerSize + " + data " + dataSize;
        } else if (span < regionSize || span % page != 0 || span > MAX_RESERVED_SPAN) {
            bad = "reserved span " + span + " is smaller than the region (" + regionSize + "), not whole pages, or more than "
                + MAX_RESERVED_SPAN + " bytes";
        } else if (current < regionSize || current > span || current % page != 0) {
            bad = "current size " + current + " is not whole pages between the size at creation (" + regionSize + ") and the span ("
                + span + ")";
        } else if (addressingCode != ADDRESSING_OFFSET_MODE && addressingCode != ADDRESSING_DIRECT_MODE) {
            bad = "unknown addressing mode " + addressingCode;
        } else if (addressingCode == ADDRESSING_DIRECT_MODE && (base < MIN_DIRECT_BASE || base % platform.baseAlignment() != 0
                   || base > USER_SPACE_END - span)) {
            bad = "DIRECT region with an unusable base address 0x" + Long.toHexString(base) + " for " + regionSize + " bytes";
        }
        if (bad != null) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, what + " has an inconsistent header: " + bad);
        }
        if (objectSize < current) {
            throw new RegionException(ErrorKind.CORRUPT_REGION, what + " is truncated: " + objectSize
                + " bytes, its header says " + current);
        }
        return new Validated(headerSize, current, span, capacity,
            addressingCode == ADDRESSING_DIRECT_MODE ? Addressing.DIRECT : Addressing.OFFSET, base, growth.generation());
    }
}
