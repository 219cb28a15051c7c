package dev.panmap.internal;

import dev.panmap.ErrorKind;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import java.lang.foreign.MemorySegment;

/**
 * Everything panmap asks of the operating system, behind one interface: POSIX (Linux:
 * {@code shm_open}, {@code mmap}, OFD locks) and Windows ({@code CreateFileMappingW},
 * {@code MapViewOfFileEx}, {@code LockFileEx} or a named mutex for the writer lock).
 * Handles are opaque to callers; addresses are plain {@code long}s and the region code owns the
 * lifetime of every mapping.
 */
public interface Platform {

    /** An open shared-memory object or file; close it with {@link #close(Handle)}. */
    interface Handle {
        /** {@return how the object was opened, for messages, e.g. {@code shm "/orders" (fd 7)}} */
        String description();
    }

    /** A shared-memory object by name, or a file by path. */
    record Target(boolean file, String name) {
        public static Target shm(String canonicalName) {
            return new Target(false, canonicalName);
        }

        public static Target file(String path) {
            return new Target(true, path);
        }
    }

    /**
     * How {@link #create} makes a new object: POSIX permission bits (Windows: not used), whether to
     * reserve the backing now (so a full file system fails the create, not the first write), the
     * Windows security level (POSIX: not used; the permission bits say who may open), and the most the
     * object may grow to ({@code span}, 0 for its size: POSIX does not use it; Windows sizes a page-file
     * section by it, reserved, and commits only the size).
     */
    record Creation(int permissions, boolean reserve, RegionOptions.Security security, long span) {
        public Creation(int permissions, boolean reserve, RegionOptions.Security security) {
            this(permissions, reserve, security, 0);
        }
    }

    /** Mapping access. */
    enum Access { READ_ONLY, READ_WRITE, COPY_ON_WRITE }

    /**
     * What {@link #status} reports of an open object; {@code links} is its number of names (0: it was
     * removed while open; Windows: 1 while the section exists).
     */
    record Status(long size, int permissions, int ownerUid, long links) {}

    /** {@code madvise} hints. */
    enum Advice { NORMAL, SEQUENTIAL, RANDOM, WILL_NEED, DONT_NEED }

    // ------------------------------------------------------------------ identity and limits

    /** {@return e.g. {@code linux-x86_64}} */
    String name();

    /** {@return the page size: sizes are rounded up to it} */
    long pageSize();

    /** {@return the alignment a fixed base address needs (page size on POSIX, 64 KiB on Windows)} */
    long baseAlignment();

    /** {@return the base address DIRECT regions use unless told otherwise} */
    long defaultDirectBase();

    /**
     * {@return the canonical form of a shared-memory name} (POSIX: one leading {@code /}; Windows: the
     * name without a leading {@code /}, in {@code namespace} unless it names its own {@code Local\} or
     * {@code Global\})
     * @throws IllegalArgumentException with the rule that the name breaks
     */
    String canonicalName(String name, RegionOptions.Namespace namespace);

    /** {@return {@link #canonicalName(String, RegionOptions.Namespace)} in the default namespace} */
    default String canonicalName(String name) {
        return canonicalName(name, RegionOptions.Namespace.DEFAULT);
    }

    // ------------------------------------------------------------------ objects

    /**
     * Creates a new shared-memory object or file of {@code size} bytes, open for reading and writing;
     * fails with {@code ALREADY_EXISTS} if one of that name exists. On POSIX the object gets exactly
     * {@code creation.permissions()}, whatever the umask. If anything fails after the object came to
     * be, it is closed and removed again before the exception leaves.
     */
    Handle create(Target target, long size, Creation creation);

    /** Opens an existing shared-memory object or file; {@code writable} opens for reading and writing. */
    Handle open(Target target, boolean writable);

    /** {@return the size, permissions and owner of an open object} */
    Status status(Handle handle);

    /**
     * {@return the object's status as {@link #open} found it} (one {@code fstat} fewer per attach where
     * the open kept it), else as it is now; the owner and mode it names are those of the object this
     * handle opened, which the handle keeps whatever the name names later
     */
    default Status statusAtOpen(Handle handle) {
        return status(handle);
    }

    /**
     * Makes a newly created object durable: a file's data and metadata are written to disk and so is
     * the directory entry that names it ({@code fsync} of both); nothing for shared memory.
     */
    void makeDurable(Handle handle, Target target);

    /**
     * Closes the handle; idempotent per handle object. A call of another thread that is using the
     * handle at that moment finishes on the same open object; every later call fails with
     * {@link IllegalStateException}, never on a descriptor number the system has given to another file.
     */
    void close(Handle handle);

    /**
     * Removes a shared-memory object or file by name; those attached keep it until they close.
     *
     * @return one sentence saying what was done (a Windows page-file section cannot be removed by
     *         name: it vanishes with its last handle, and the sentence says so)
     */
    String remove(Target target);

    /**
     * Removes {@code target} by name only if the name still refers to the object {@code handle} has
     * open: the cleanup of a create that failed, which must not remove what another process made under
     * the same name in the meantime. (The check and the removal are two steps: a name recreated in
     * between, within microseconds, is not seen; POSIX has no unlink of an open descriptor.)
     *
     * @return whether it was removed
     */
    boolean removeIfSame(Target target, Handle handle);

    // ------------------------------------------------------------------ mappings

    /**
     * Maps {@code size} bytes of the object and keeps {@code span} bytes of address space there
     * ({@code span >= size}; the part past {@code size} is a zero reservation that growth maps into,
     * see {@link #mapMore}). {@code fixedAddress} 0 lets the system choose; otherwise the mapping is
     * placed exactly there or fails with {@code ADDRESS_IN_USE}, and nothing already mapped is ever
     * replaced but panmap's own reservations left by {@link #unmap} (which may be merged, extended into
     * free address space, or split). The error tells a live panmap region of this process apart from a
     * mapping panmap did not make.
     *
     * @return the base address of the mapping
     */
    long map(Handle handle, long size, long span, Access access, long fixedAddress, boolean populate);

    /** {@return {@link #map(Handle, long, long, Access, long, boolean)} with no room to grow} */
    default long map(Handle handle, long size, Access access, long fixedAddress, boolean populate) {
        return map(handle, size, size, access, fixedAddress, populate);
    }

    /**
     * Maps bytes {@code [mappedSize, newSize)} of the object at {@code address + mappedSize}, into the
     * span that {@link #map} kept for this same handle; fails if it does not fit, or where growth in
     * place is not offered.
     *
     * @throws IllegalStateException if the live mapping at {@code address} is not {@code handle}'s
     *         (it was unmapped, and the range may now hold another region): nothing is mapped
     */
    void mapMore(Handle handle, long address, long mappedSize, long newSize, Access access);

    /**
     * Grows the object from {@code oldSize} to {@code newSize} bytes; with {@code reserve} its backing
     * is allocated now, so a full file system fails here with NO_SPACE. A failure leaves the old size.
     */
    void extend(Handle handle, long oldSize, long newSize, boolean reserve);

    /**
     * Lays a read-only zero reservation over part of a live mapping whose object shrank under it, so
     * that a racing reader reads zeros there instead of faulting.
     *
     * @throws IllegalStateException if that range is not inside {@code handle}'s live mapping
     */
    void coverTruncated(Handle handle, long address, long size);

    /**
     * Maps {@code size} bytes of the object read-only, anywhere, for a short look (a header peek):
     * {@link #unmap} gives it back to the system. Nothing may read it without a bounded segment.
     */
    long mapTransient(Handle handle, long size);

    /**
     * Removes a mapping. A mapping made by {@link #map} is not given back to the system: a read-only,
     * zero-filled reservation that costs no memory takes its place in one step, and a later mapping
     * of its kind in this process may reuse it (fixed: at that base; anywhere: first fit). Code that
     * follows addresses without a per-access liveness check (the structures' read paths) and races
     * with the unmap therefore reads zeros or, after a later open that reuses the range, that region's
     * bytes, but never unmapped memory: the range stays mapped for the life of the process. The
     * growth room past {@code size} (the bytes mapped now) was never mapped and is given back, so a
     * span costs nothing after the close. A {@link #mapTransient} mapping is given back.
     */
    void unmap(long address, long size);

    /**
     * Takes a mapping out of use without giving its range back yet: the object's pages are replaced in
     * one step by private zero pages (readable, and writable if {@code writable}: a late store from a
     * thread that raced the close lands there, never in the object), and the range stays in the book as
     * a closed mapping that nothing else may take, until {@link #unmap} turns it into an ordinary
     * reservation. Used where a region's segments stay valid after its close until their arena closes
     * with others ({@code CloseBatch}): until then they read zeros, never another region's bytes, and
     * never fault. Only where {@link #closeKeepsRangeReadable()}.
     *
     * @throws IllegalStateException if {@code address} starts no live mapping of {@code handle}
     */
    default void retire(Handle handle, long address, long size, boolean writable) {
        throw new UnsupportedOperationException("retire: a close here gives the range back at once (closeKeepsRangeReadable() is false)");
    }

    /**
     * {@return whether {@link #unmap} keeps the range readable (zeros, or a later region's bytes) for the
     * life of the process} (POSIX: yes, a zero reservation replaces the mapping in one step). Where not
     * (Windows), code that reads a region without its scoped segment could fault after a close: the
     * structures then read through the region's scoped segment, whose closed arena makes a racing read
     * fail with {@link IllegalStateException} instead.
     */
    default boolean closeKeepsRangeReadable() {
        return true;
    }

    // The calls below take a page-aligned slice of the mapping's own segment, not an address: a
    // downcall keeps the segment's arena open while it runs, so a concurrent close() cannot unmap
    // the range (and let something else be mapped there) under the system call.

    /** Writes dirty pages of {@code range} back; waits for the write if {@code sync}. */
    void flush(MemorySegment range, boolean sync);

    /** Gives the system a hint on the access pattern of {@code range}. */
    void advise(MemorySegment range, Advice advice);

    /** Locks {@code range} into RAM ({@code mlock}), or fails with the system's reason. */
    void lockMemory(MemorySegment range);

    /**
     * {@return whether the first page of {@code page} (a page-aligned slice of a mapping) is in memory
     * already}, asked without touching it (POSIX {@code mincore}); false where the system cannot say
     */
    default boolean resident(MemorySegment page) {
        return false;
    }

    /** Undoes {@link #lockMemory}. */
    void unlockMemory(MemorySegment range);

    /**
     * {@return what occupies {@code [address, address+size)} in this process, e.g. a line of
     * {@code /proc/self/maps}, or an empty string if nothing}
     */
    String describeAddressRange(long address, long size);

    // ------------------------------------------------------------------ the writer lock

    /**
     * Tries to take the region's exclusive writer lock through {@code handle}. The operating system
     * releases it when the handle closes or its process dies, whatever the cause.
     *
     * @return {@code false} if another handle holds it
     */
    boolean tryLockWriter(Handle handle);

    /** Releases the writer lock taken through {@code handle}. */
    void unlockWriter(Handle handle);

    // ------------------------------------------------------------------ liveness

    /**
     * {@return whether the system keeps liveness for this object} (POSIX: an OFD lock per attach slot,
     * see {@link #tryLockByte}); where not, the attach table and the writer lock judge processes by pid
     * and start time ({@link ProcessStamp#alive})
     */
    boolean kernelLiveness(Handle handle);

    /**
     * Takes an exclusive lock on byte {@code offset} of the object (beyond any real size: no data is
     * locked), held by this handle; the system releases it when the handle closes or the process dies.
     * The attach table's liveness (one byte per slot, see {@code RegionLayout}).
     * {@return false if another handle holds it}
     */
    boolean tryLockByte(Handle handle, long offset);

    /** Releases a lock taken by {@link #tryLockByte}. */
    void unlockByte(Handle handle, long offset);

    /** {@return whether another handle, in any process, holds a lock on byte {@code offset}} (never this handle's own) */
    boolean lockedElsewhere(Handle handle, long offset);

    /**
     * A lock another handle holds on byte {@code offset} of an object, as the system reports it:
     * exclusive (a writer's) or shared (a read lock, which any process with read access can take),
     * and the process that holds it, -1 where the system does not say (a process of another pid
     * namespace, or of another user this one may not look at).
     */
    record ByteLock(long offset, boolean exclusive, int pid) {}

    /**
     * {@return the locks other handles hold on bytes {@code [offset, offset + count)}}, each holder of a
     * byte once, in byte order; empty where the system cannot say (Windows)
     */
    default java.util.List<ByteLock> locksHeld(Handle handle, long offset, long count) {
        return java.util.List.of();
    }

    // ------------------------------------------------------------------ processes

    /** {@return this process's id} */
    int currentPid();

    /** {@return whether a process with this id exists} */
    boolean processExists(int pid);

    /**
     * {@return the start time of a process, in the system's own unit (Linux: clock ticks since boot;
     * Windows: milliseconds since 1601, from the creation {@code FILETIME}),
     * or -1 if the process does not exist}. Together with the pid it names a process uniquely even
     * after pid reuse.
     */
    long processStartTime(int pid);

    // ------------------------------------------------------------------ waiting on a shared word

    /**
     * Sleeps while the 4-byte word at the start of {@code word} (a 4-byte-aligned slice of a shared
     * mapping) holds {@code expected}, until {@link #wakeAddress} on the same word from any process
     * that maps it, the timeout, or a spurious wake-up. The check and the sleep are one step in the
     * kernel: a change of the word made before the call is never slept through. Callers re-check
     * their condition after every return.
     *
     * <p>Linux: {@code FUTEX_WAIT} without {@code FUTEX_PRIVATE_FLAG}. Windows ({@code WaitOnAddress}
     * wakes only threads of its own process): a pair of named semaphores keyed to the region and the
     * word's offset in it, one the sleepers wait on and one that counts them; the sleeper counts itself
     * before it reads the word, the waker writes the word before it reads the count, so a wake is never
     * lost (a dead sleeper's count costs one spurious wake-up per later wake).
     *
     * @param timeoutNanos at most this long; negative waits without a limit
     * @return {@code false} if the timeout passed, else {@code true}
     * @throws RegionException {@link ErrorKind#NOT_SUPPORTED} where the platform cannot wait across processes
     */
    default boolean waitOnAddress(MemorySegment word, int expected, long timeoutNanos) {
        throw new RegionException(ErrorKind.NOT_SUPPORTED, "waiting on a shared word across processes is not implemented on "
            + name() + " (it needs a named event beside the word: WaitOnAddress is process-local)");
    }

    /**
     * Wakes up to {@code count} waiters of any process sleeping in {@link #waitOnAddress} on the word.
     *
     * @return how many were woken, where the platform can tell
     * @throws RegionException {@link ErrorKind#NOT_SUPPORTED} where the platform cannot wait across processes
     */
    default int wakeAddress(MemorySegment word, int count) {
        throw new RegionException(ErrorKind.NOT_SUPPORTED, "waking a shared word across processes is not implemented on "
            + name() + " (it needs a named event beside the word: WakeByAddress is process-local)");
    }

    // ------------------------------------------------------------------ huge pages and anonymous regions
    // POSIX only: the defaults below are what Windows does (it has neither memfd nor SCM_RIGHTS, and
    // its large pages need SeLockMemoryPrivilege, which panmap does not ask for).

    /**
     * Decides how a new region's pages are backed. {@code target} null means an anonymous region.
     *
     * @throws dev.panmap.RegionException {@code NOT_SUPPORTED} when {@code policy} is REQUIRED and
     *         this kind of region cannot have huge pages here
     */
    default PagePlan planPages(Target target, dev.panmap.HugePages policy, long hugePageSize) {
        if (policy == dev.panmap.HugePages.REQUIRED) {
            throw new dev.panmap.RegionException(dev.panmap.ErrorKind.NOT_SUPPORTED, "huge pages are not supported on Windows");
        }
        return PagePlan.ordinary(pageSize(), policy == dev.panmap.HugePages.NONE ? null : "huge pages are not supported on Windows");
    }

    /** {@return how an open object's pages are backed}, as far as the object itself says (a hugetlbfs file does) */
    default PagePlan pagePlan(Handle handle) {
        return PagePlan.ordinary(pageSize(), null);
    }

    /**
     * Asks for transparent huge pages in every later {@link #map} of {@code handle} (POSIX:
     * {@code madvise(MADV_HUGEPAGE)} on the new mapping, and sizes and bases aligned to 2 MiB).
     */
    default void useTransparentHugePages(Handle handle) {
        throw new dev.panmap.RegionException(dev.panmap.ErrorKind.NOT_SUPPORTED, "transparent huge pages are not on Windows");
    }

    /**
     * Creates an anonymous shared object of {@code size} bytes, named only for messages and
     * {@code /proc} (Linux: {@code memfd_create}, sealed against shrinking, and against growing when
     * {@code sealGrowth}). When the plan's hugetlb pages are only preferred and too few are free, it
     * falls back to transparent or ordinary pages; {@link #pagePlan} of the handle then says which, and why.
     */
    default Handle createAnonymous(String name, long size, Creation creation, PagePlan plan, boolean preferred, boolean sealGrowth) {
        throw new dev.panmap.RegionException(dev.panmap.ErrorKind.NOT_SUPPORTED, "anonymous regions are not on Windows");
    }

    /** {@return what backs {@code [address, address+size)} of this process now, or null if the system does not say} */
    default dev.panmap.PageUsage pageUsage(long address, long size) {
        return null;
    }

    /** A socket that hands objects to the processes that connect to it. */
    interface Listener extends AutoCloseable {
        /** {@return the socket's path} */
        String path();

        /**
         * Waits up to {@code timeout} for one process to connect, and hands it {@code handle} if it runs
         * as an allowed user; a refused peer is told why.
         *
         * @return the peer and whether it was given the object, or null if none connected in time
         */
        Peer handOver(Handle handle, String name, java.time.Duration timeout);

        @Override
        void close();
    }

    /** A process at the other end of a socket, as the kernel reports it, and what was done for it. */
    record Peer(int pid, int uid, int gid, boolean granted, String reason) {}

    /** What a receiver got: an open handle and the name the sender gave it. */
    record Received(Handle handle, String name, Peer sender) {}

    /**
     * Listens on a new socket at {@code path} (which must not exist, or be a socket of this user that
     * nobody listens on), reachable there only with exactly {@code permissions};
     * only processes of the uids in {@code allowedUids} are handed anything.
     */
    default Listener listen(String path, int permissions, java.util.Set<Integer> allowedUids) {
        throw new dev.panmap.RegionException(dev.panmap.ErrorKind.NOT_SUPPORTED, "passing regions over a socket is not on Windows");
    }

    /** Connects to the socket at {@code path} and waits up to {@code timeout} for an object. */
    default Received receive(String path, java.time.Duration timeout, boolean writable) {
        throw new dev.panmap.RegionException(dev.panmap.ErrorKind.NOT_SUPPORTED, "passing regions over a socket is not on Windows");
    }

    /** {@return this process's user id} (Windows: -1, not used) */
    default int currentUid() {
        return -1;
    }

    // ------------------------------------------------------------------ choice

    /**
     * {@return the platform of this machine}, as {@link Platforms#current()} chooses it. Kept for the
     * callers that have not moved to {@link Platforms} yet; new code calls {@link Platforms#current()}.
     */
    static Platform current() {
        return Platforms.current();
    }
}
