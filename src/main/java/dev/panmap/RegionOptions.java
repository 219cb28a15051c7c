package dev.panmap;

import java.time.Duration;
import java.util.Objects;

/**
 * How to create or attach to a region. Immutable; each {@code withX}-style method returns a copy.
 * Creation uses every option; attaching uses the mapping options (populate, lock in memory, offset
 * fallback, timeouts) and takes the rest from the region's header.
 *
 * <pre>{@code
 * RegionOptions options = RegionOptions.defaults()
 *     .size(64 << 20)
 *     .addressing(Addressing.DIRECT)
 *     .permissions(Permissions.ownerAndGroup());
 * }</pre>
 */
public final class RegionOptions {
    private static final RegionOptions DEFAULTS = new RegionOptions(new Values());

    /**
     * The Windows kernel-object namespace of a region's name. Windows only: POSIX shared memory has
     * one namespace (per IPC namespace), so this is not used there. A name that starts with
     * {@code Local\} or {@code Global\} says it itself, and then this option must agree with it or be
     * {@link #DEFAULT}.
     */
    public enum Namespace {
        /** No prefix: the session's namespace for a desktop process (the same as {@link #LOCAL} there). */
        DEFAULT,
        /** {@code Local\}: visible to the processes of this logon session. */
        LOCAL,
        /**
         * {@code Global\}: visible to all sessions (services and users alike); creating a section there
         * needs the {@code SeCreateGlobalPrivilege} privilege, which services and administrators have.
         */
        GLOBAL
    }

    /**
     * Who may open a region that this process creates, on Windows. POSIX: not used, because the
     * permission bits ({@link #permissions(Permissions)}, owner-only by default) already say it.
     */
    public enum Security {
        /**
         * The creator's default access list (Windows: the process token's default DACL, which on a
         * desktop usually admits the user, SYSTEM and administrators).
         */
        DEFAULT,
        /**
         * Only the creating user: a protected access list with one entry, generic-all for the user's
         * SID, built from SDDL ({@code D:P(A;;GA;;;<user SID>)}); administrators and other users are
         * refused unless they take ownership.
         */
        SAME_USER
    }

    /** The option values while a copy is being changed; every {@code withX}-style method edits one. */
    private static final class Values {
        long size;
        Permissions permissions = Permissions.ownerOnly();
        Addressing addressing = Addressing.OFFSET;
        long baseAddress;
        boolean allowOffsetFallback;
        boolean populate;
        boolean lockInMemory;
        int maxAttached = dev.panmap.internal.RegionLayout.DEFAULT_ATTACH_CAPACITY;
        boolean reserve = true;
        Duration attachTimeout = Duration.ofSeconds(5);
        Namespace namespace = Namespace.DEFAULT;
        Security security = Security.DEFAULT;
        long maxSize;
        HugePages hugePages = HugePages.NONE;
        long hugePageSize = DEFAULT_HUGE_PAGE_SIZE;
        boolean confinedToThread;
        boolean ownArena;
        java.util.Set<Integer> trustedOwners = java.util.Set.of();
    }

    /** The huge page size asked for unless told otherwise: 2 MiB, what x86_64 offers everywhere. */
    public static final long DEFAULT_HUGE_PAGE_SIZE = 2L << 20;

    private final long size;
    private final Permissions permissions;
    private final Addressing addressing;
    private final long baseAddress;
    private final boolean allowOffsetFallback;
    private final boolean populate;
    private final boolean lockInMemory;
    private final int maxAttached;
    private final boolean reserve;
    private final Duration attachTimeout;
    private final Namespace namespace;
    private final Security security;
    private final long maxSize;
    private final HugePages hugePages;
    private final long hugePageSize;
    private final boolean confinedToThread;
    private final boolean ownArena;
    private final java.util.Set<Integer> trustedOwners;

    private RegionOptions(Values v) {
        this.size = v.size;
        this.permissions = v.permissions;
        this.addressing = v.addressing;
        this.baseAddress = v.baseAddress;
        this.allowOffsetFallback = v.allowOffsetFallback;
        this.populate = v.populate;
        this.lockInMemory = v.lockInMemory;
        this.maxAttached = v.maxAttached;
        this.reserve = v.reserve;
        this.attachTimeout = v.attachTimeout;
        this.namespace = v.namespace;
        this.security = v.security;
        this.maxSize = v.maxSize;
        this.hugePages = v.hugePages;
        this.hugePageSize = v.hugePageSize;
        this.confinedToThread = v.confinedToThread;
        this.ownArena = v.ownArena;
        this.trustedOwners = v.trustedOwners;
    }

    /** {@return a copy of these options with one change} */
    private RegionOptions with(java.util.function.Consumer<Values> change) {
        Values v = new Values();
        v.size = size;
        v.permissions = permissions;
        v.addressing = addressing;
        v.baseAddress = baseAddress;
        v.allowOffsetFallback = allowOffsetFallback;
        v.populate = populate;
        v.lockInMemory = lockInMemory;
        v.maxAttached = maxAttached;
        v.reserve = reserve;
        v.attachTimeout = attachTimeout;
        v.namespace = namespace;
        v.security = security;
        v.maxSize = maxSize;
        v.hugePages = hugePages;
        v.hugePageSize = hugePageSize;
        v.confinedToThread = confinedToThread;
        v.ownArena = ownArena;
        v.trustedOwners = trustedOwners;
        change.accept(v);
        return new RegionOptions(v);
    }

    /** {@return the defaults: OFFSET addressing, {@code 0600}, 64 attach slots, blocks reserved} */
    public static RegionOptions defaults() {
        return DEFAULTS;
    }

    /**
     * The size of the data area in bytes, needed to create a region; rounded up to whole pages
     * ({@link SharedRegion#size()} reports the real size). Accepts {@link #parseSize} forms elsewhere.
     *
     * @param bytes the size of the data area, at least 1
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions size(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("size must be positive: size=" + bytes);
        }
        return with(v -> v.size = bytes);
    }

    /**
     * The mode a created region gets, exactly, whatever the umask.
     *
     * @param value the mode, e.g. {@code Permissions.of(0640)}
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions permissions(Permissions value) {
        return with(v -> v.permissions = Objects.requireNonNull(value));
    }

    /**
     * How a created region is addressed.
     *
     * @param value {@link Addressing#OFFSET} (the default) or {@link Addressing#DIRECT}
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions addressing(Addressing value) {
        return with(v -> v.addressing = Objects.requireNonNull(value));
    }

    /**
     * The base address of a created DIRECT region (page aligned). Without it panmap uses a default
     * chosen to stay clear of the JVM and its libraries, and the next free slot above it when this
     * process already has a region there.
     *
     * @param address the base address; implies {@link Addressing#DIRECT}
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions baseAddress(long address) {
        if (address < 0) {
            throw new IllegalArgumentException("base address must be a user-space address: 0x" + Long.toHexString(address));
        }
        return with(v -> {
            v.addressing = Addressing.DIRECT;
            v.baseAddress = address;
        });
    }

    /**
     * When attaching to a DIRECT region whose base address is taken in this process: map it elsewhere
     * and translate its references (reported by {@link SharedRegion#isOffsetFallback()}), instead of
     * failing with {@link ErrorKind#ADDRESS_IN_USE}.
     *
     * @param value whether to map elsewhere rather than fail; off by default
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions allowOffsetFallback(boolean value) {
        return with(v -> v.allowOffsetFallback = value);
    }

    /**
     * Fault every page in at map time ({@code MAP_POPULATE}).
     *
     * @param value whether to fault every page in; off by default
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions populate(boolean value) {
        return with(v -> v.populate = value);
    }

    /**
     * Lock the mapping into RAM ({@code mlock}); fails with the system's reason where refused.
     *
     * @param value whether to lock the mapping into RAM; off by default
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions lockInMemory(boolean value) {
        return with(v -> v.lockInMemory = value);
    }

    /**
     * The capacity of a created region's attached-process table (eXtremeDB's "max connections").
     *
     * @param value the number of slots; 64 by default
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions maxAttached(int value) {
        dev.panmap.internal.RegionLayout.checkAttachCapacity(value);
        return with(v -> v.maxAttached = value);
    }

    /**
     * Whether creation reserves the region's blocks ({@code posix_fallocate}), so that a full file
     * system fails at creation with {@link ErrorKind#NO_SPACE} rather than at a later write. On by default.
     *
     * @param value whether to reserve the blocks at creation
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions reserve(boolean value) {
        return with(v -> v.reserve = value);
    }

    /**
     * How long an attaching process waits for a region whose creation is in progress.
     *
     * @param value the longest wait; not negative
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions attachTimeout(Duration value) {
        if (value.isNegative()) {
            throw new IllegalArgumentException("attach timeout must not be negative: " + value);
        }
        return with(v -> v.attachTimeout = value);
    }

    /** {@return the size of the data area asked for, 0 if not set} */
    public long size() {
        return size;
    }

    /** {@return the mode a created region gets} */
    public Permissions permissions() {
        return permissions;
    }

    /** {@return how a created region is addressed} */
    public Addressing addressing() {
        return addressing;
    }

    /** {@return the base address asked for a DIRECT region, 0 for panmap's default} */
    public long baseAddress() {
        return baseAddress;
    }

    /** {@return whether a DIRECT region whose base is taken is mapped elsewhere rather than refused} */
    public boolean allowOffsetFallback() {
        return allowOffsetFallback;
    }

    /** {@return whether every page is faulted in at map time} */
    public boolean populate() {
        return populate;
    }

    /** {@return whether the mapping is locked into RAM} */
    public boolean lockInMemory() {
        return lockInMemory;
    }

    /** {@return the capacity of a created region's attached-process table} */
    public int maxAttached() {
        return maxAttached;
    }

    /** {@return whether creation reserves the region's blocks} */
    public boolean reserve() {
        return reserve;
    }

    /** {@return how long an attaching process waits for a region whose creation is in progress} */
    public Duration attachTimeout() {
        return attachTimeout;
    }

    /**
     * The most the data area may grow to ({@link SharedRegion#grow}), in bytes; 0 (the default): it
     * cannot grow. Every process that maps the region keeps that much address space from its first
     * mapping on (a read-only zero reservation: no memory, only address space), so the region grows in
     * place and DIRECT pointers stay valid. Creation only; less than {@link #size()} counts as
     * {@code size()}.
     *
     * @param bytes the most the data area may grow to, up to 32 TiB; 0: it cannot grow
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions maxSize(long bytes) {
        if (bytes < 0 || bytes > dev.panmap.internal.RegionLayout.MAX_RESERVED_SPAN) {
            throw new IllegalArgumentException("maximum size must be in [0, 32 TiB], header included (checked at creation): maxSize=" + bytes);
        }
        return with(v -> v.maxSize = bytes);
    }

    /** {@return the most the data area may grow to, 0 if it cannot grow} */
    public long maxSize() {
        return maxSize;
    }

    /**
     * The Windows namespace of the region's name ({@link Namespace}); not used on POSIX. Applies to
     * every open of a named region, creating or attaching.
     *
     * @param value the namespace
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions namespace(Namespace value) {
        return with(v -> v.namespace = Objects.requireNonNull(value));
    }

    /** {@return the Windows namespace of the region's name} */
    public Namespace namespace() {
        return namespace;
    }

    /**
     * Who may open the region on Windows ({@link Security}); not used on POSIX, where the permission bits decide.
     *
     * @param value who may open it
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions security(Security value) {
        return with(v -> v.security = Objects.requireNonNull(value));
    }

    /** {@return who may open the region on Windows} */
    public Security security() {
        return security;
    }

    /**
     * Whether a created region is backed by huge pages ({@link HugePages}: none, preferred, required),
     * of {@link #hugePageSize(long)} bytes. With huge pages, sizes are rounded up to whole huge pages
     * and a DIRECT base must be aligned to one. When attaching, a region on hugetlb pages has them
     * whatever this says; for transparent huge pages, a process that attaches with this option set
     * asks for them on its own mapping too ({@code madvise(MADV_HUGEPAGE)}; the header does not record
     * the choice).
     *
     * @param value none (the default), preferred or required
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions hugePages(HugePages value) {
        return with(v -> v.hugePages = Objects.requireNonNull(value));
    }

    /** {@return whether a created region is backed by huge pages} */
    public HugePages hugePages() {
        return hugePages;
    }

    /**
     * The huge page size to ask for: 2 MiB (the default) or 1 GiB, where the kernel offers it
     * ({@code /sys/kernel/mm/hugepages/hugepages-1048576kB}). A file on a hugetlbfs mount gets the
     * mount's page size; transparent huge pages are 2 MiB only.
     *
     * @param bytes a power of two: 2 MiB (the default) or 1 GiB
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions hugePageSize(long bytes) {
        if (bytes < 4096 || Long.bitCount(bytes) != 1) {
            throw new IllegalArgumentException("a huge page size is a power of two of at least 4096 bytes: hugePageSize=" + bytes);
        }
        return with(v -> v.hugePageSize = bytes);
    }

    /** {@return the huge page size asked for} */
    public long hugePageSize() {
        return hugePageSize;
    }

    /**
     * Confines the region to the thread that opens it: its segment, writer lock and attach table work
     * only in that thread ({@link WrongThreadException} elsewhere), and only that thread may close it.
     * Its memory belongs to a confined arena of its own, whose close costs no handshake with other
     * threads and makes every later access through its segments throw {@link IllegalStateException}
     * at once: for short-lived, one-thread attaches that want that exception (a probe, a command-line
     * tool, a request that looks and leaves). Off by default (see {@link #ownArena(boolean)} for what
     * the default close does).
     *
     * @param value whether to confine the region to the opening thread
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions confinedToThread(boolean value) {
        return with(v -> v.confinedToThread = value);
    }

    /** {@return whether regions opened with these options are confined to the opening thread} */
    public boolean confinedToThread() {
        return confinedToThread;
    }

    /**
     * Gives the region a shared arena of its own, closed by {@link SharedRegion#close()}: from the moment
     * {@code close()} returns, any access through a segment the region handed out, from any thread,
     * throws {@link IllegalStateException}. The price is a JVM handshake with every Java thread per
     * close (20-100 us here, and each running thread stopped at a poll for it).
     *
     * <p>Without it (the default) a region that is neither {@linkplain #confinedToThread confined} nor
     * mapped at a fixed base (DIRECT, whose base must be free again for the next open) shares an arena
     * with other regions of the process, closed once per 64 closes ({@code CloseBatch}, POSIX only;
     * on Windows every region has its own arena). {@code close()} still gives back at once the
     * descriptor, the locks, the attach slot and the region's pages, and the region's own methods
     * throw {@link IllegalStateException} at once; but a segment obtained before the close then reads
     * zeros, and a store through it is lost, until the shared arena closes, when it starts throwing
     * {@link IllegalStateException}. It never faults, and never reads or writes another region.
     *
     * @param value whether the region closes its own arena
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions ownArena(boolean value) {
        return with(v -> v.ownArena = value);
    }

    /** {@return whether regions opened with these options close an arena of their own} */
    public boolean ownArena() {
        return ownArena;
    }

    /**
     * The users (POSIX uids) whose existing objects this process accepts as they are, owner and mode.
     * Opening an existing region checks its owner and mode on the descriptor ({@code fstat}), before
     * reading a byte of it:
     * <ul>
     * <li>{@link OpenMode#OPEN_OR_CREATE} adopts an existing object only if it is this process's user's
     *     (effective uid) and its mode is no wider than {@link #permissions(Permissions)} asks, or if its
     *     owner is one of these. Anything else is {@link ErrorKind#PERMISSION_DENIED}, naming the owner,
     *     the mode and what was expected: another user who creates the name first (a squatter, in a
     *     shared {@code /dev/shm} or a 1777 directory) would otherwise read and write everything this
     *     process puts in it. List this process's own uid to adopt its own objects whatever their mode.</li>
     * <li>{@link OpenMode#OPEN_ONLY}, {@link OpenMode#OPEN_READ_ONLY} and {@link OpenMode#OPEN_COPY_ON_WRITE}
     *     open any owner's object (a consumer of another account is a real deployment) unless this set
     *     is not empty: then only an object of one of these users or of this process's user.
     *     {@link SharedRegion#ownerUid()} and {@link SharedRegion#permissions()} say what was opened.</li>
     * </ul>
     * Empty by default. Not used on Windows (no POSIX owner). See docs/SECURITY.md.
     *
     * @param uids the trusted users' ids, not negative
     * @return a copy of these options with that set (options are immutable)
     */
    public RegionOptions trustedOwners(int... uids) {
        java.util.Set<Integer> set = new java.util.TreeSet<>();
        for (int uid : uids) {
            if (uid < 0) {
                throw new IllegalArgumentException("a uid is not negative: trustedOwners(" + uid + ")");
            }
            set.add(uid);
        }
        java.util.Set<Integer> copy = java.util.Collections.unmodifiableSet(set);
        return with(v -> v.trustedOwners = copy);
    }

    /** {@return the users whose existing objects are accepted as they are (see {@link #trustedOwners(int...)}), ascending} */
    public java.util.Set<Integer> trustedOwners() {
        return trustedOwners;
    }

    /**
     * Parses a size: a number of bytes with an optional binary suffix, {@code 4096}, {@code 64K},
     * {@code 1M}, {@code 2G} (also {@code KiB}, {@code MB}, ...: all powers of 1024).
     *
     * @param text the size, e.g. {@code 64K}
     * @return the size in bytes
     * @throws IllegalArgumentException if it is not a size
     */
    public static long parseSize(String text) {
        String t = text.trim().toUpperCase(java.util.Locale.ROOT);
        int end = t.length();
        while (end > 0 && Character.isLetter(t.charAt(end - 1))) {
            end--;
        }
        String unit = t.substring(end).replace("IB", "").replace("B", "");
        int shift = switch (unit) {
            case "" -> 0;
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> throw new IllegalArgumentException("not a size: \"" + text + "\" (use e.g. 4096, 64K, 1M, 2G)");
        };
        try {
            long n = Long.parseLong(t.substring(0, end).trim());
            if (n <= 0 || n > (Long.MAX_VALUE >> shift)) {
                throw new IllegalArgumentException("size out of range: \"" + text + "\"");
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: \"" + text + "\" (use e.g. 4096, 64K, 1M, 2G)", e);
        }
    }
}
