package dev.panmap.cli;

import dev.panmap.Addressing;
import dev.panmap.LockHolding;
import dev.panmap.PageUsage;
import dev.panmap.ProcessInfo;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code inspect} and {@code list} show of a region, read once from its header.
 *
 * @param owner            the owning user of the object or file (its name, or its uid in digits), or null if unknown
 * @param ownerUid         its uid, or -1 where the system has none (Windows)
 * @param recordedBase     the base address in the header (DIRECT), or 0
 * @param mappedAt         where this process mapped the region to look at it
 * @param creator          the creating process, or null
 * @param createdAt        when it was created, or null
 * @param lockHolder       the recorded writer-lock holder, or null when the lock is free
 * @param lastStaleHolder  the last holder that died holding the lock, or null
 * @param generation       1 at creation, +1 per growth
 * @param reservedSpan     the most the region (header included) may grow to
 * @param pages            the pages that back the region here, as the kernel reports them, or null if it does not
 * @param locks            who holds the lock bytes now, as the kernel reports it (writer lock first)
 */
record RegionInfo(String name, SharedRegion.Backing backing, String owner, int ownerUid, long size, long regionSize, long dataOffset,
                  Addressing addressing, long recordedBase, boolean offsetFallback, long mappedAt, String mode,
                  int layoutVersion, ProcessInfo creator, Instant createdAt, ProcessInfo lockHolder, long lockAcquisitions,
                  long staleRecoveries, ProcessInfo lastStaleHolder, int maxAttached, List<ProcessInfo> attached,
                  long generation, long reservedSpan, PageUsage pages, List<LockHolding> locks) {

    /** The directory where Linux keeps POSIX shared-memory objects, one file each. */
    static final Path SHM_DIRECTORY = Path.of("/dev/shm");

    /**
     * How much of the data area inspect looks at for the page size in effect: the first 1 GiB, where
     * resident already ({@link SharedRegion#pageUsage(long)}: a sparse region is not made resident).
     */
    static final long PAGE_SAMPLE = 1L << 30;

    /** {@return what {@code r}'s header and the kernel say of it; {@code pageSample}: see {@link #PAGE_SAMPLE}} */
    static RegionInfo of(SharedRegion r, long pageSample) {
        r.refresh(); // the size now: maps what another process grew, and says if the backing shrank
        WriterLock lock = r.writerLock();
        Path path = switch (r.backing()) {
            case FILE -> Path.of(r.name());
            case SHARED_MEMORY -> SHM_DIRECTORY.resolve(r.name().substring(1));
            case ANONYMOUS -> null;
        };
        return new RegionInfo(r.name(), r.backing(), owner(path, r.ownerUid()), r.ownerUid(), r.size(), r.regionSize(), r.dataOffset(), r.addressing(),
            r.recordedBaseAddress(), r.isOffsetFallback(), r.baseAddress(), r.permissions().toString(), r.layoutVersion(),
            r.creator().orElse(null), r.createdAt().orElse(null), lock.holder().orElse(null), lock.acquisitions(),
            lock.staleRecoveries(), lock.lastStaleHolder().orElse(null), r.maxAttached(), r.attachedProcesses(), r.generation(),
            r.reservedSpan(), r.pageUsage(pageSample).orElse(null), r.lockHoldings());
    }

    /**
     * {@return the user owning the object: its name (looked up through {@code path}, when it has one),
     * else {@code uid} (as the descriptor says) in digits, or null if the system says neither}
     */
    static String owner(Path path, int uid) {
        String name = null;
        if (path != null) {
            try {
                name = Files.getOwner(path, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName();
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                name = null;
            }
        }
        if (name != null || uid < 0) {
            return name;
        }
        try (java.util.stream.Stream<String> users = Files.lines(Path.of("/etc/passwd"))) { // an object without a name: a memfd
            return users.map(l -> l.split(":", -1)).filter(f -> f.length > 2 && f[2].equals(Integer.toString(uid)))
                .map(f -> f[0]).findFirst().orElse(Integer.toString(uid));
        } catch (IOException | java.io.UncheckedIOException e) {
            return Integer.toString(uid);
        }
    }

    /** {@return the owner for a sentence: {@code root (uid 0)}, or {@code uid 1234} when the uid has no name here} */
    String ownerText() {
        if (ownerUid < 0 || owner == null) {
            return owner;
        }
        return owner.equals(Integer.toString(ownerUid)) ? "uid " + ownerUid : owner + " (uid " + ownerUid + ")";
    }

    long liveAttached() {
        return attached.stream().filter(ProcessInfo::alive).count();
    }

    /** {@return e.g. {@code DIRECT 0x600000000000} or {@code OFFSET}} */
    String addressingSummary() {
        return addressing == Addressing.DIRECT ? "DIRECT " + Strings.hex(recordedBase) : "OFFSET";
    }

    /** {@return the lock in a few words: {@code free}, {@code pid 4242}, {@code pid 4242 (stale)}, {@code read-locked by pid 4343}} */
    String lockSummary() {
        List<LockHolding> readers = writerLocks().stream().filter(l -> !l.exclusive()).toList();
        if (!readers.isEmpty()) {
            return "read-locked by " + pids(readers);
        }
        return lockHolder == null ? "free" : "pid " + lockHolder.pid() + (lockHolder.alive() ? "" : " (stale)");
    }

    /** {@return the holders of the writer lock's byte} */
    List<LockHolding> writerLocks() {
        return locks.stream().filter(LockHolding::writerLock).toList();
    }

    /** {@return the read locks on attach slots' bytes: a process with read access keeping slots from being taken} */
    List<LockHolding> blockedSlots() {
        return locks.stream().filter(l -> !l.writerLock() && !l.exclusive()).toList();
    }

    /** {@return e.g. {@code pid 4242} or {@code pids 4242, 4343}; -1 (not visible here) as {@code ?}} */
    static String pids(List<LockHolding> holders) {
        List<String> pids = holders.stream().map(l -> l.pid() > 0 ? Integer.toString(l.pid()) : "?").distinct().toList();
        return (pids.size() == 1 ? "pid " : "pids ") + String.join(", ", pids);
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("backing", backing.name());
        m.put("owner", owner);
        m.put("ownerUid", ownerUid < 0 ? null : ownerUid);
        m.put("size", size);
        m.put("regionSize", regionSize);
        m.put("dataOffset", dataOffset);
        m.put("generation", generation);
        m.put("reservedSpan", reservedSpan);
        m.put("addressing", addressing.name());
        m.put("baseAddress", addressing == Addressing.DIRECT ? Strings.hex(recordedBase) : null);
        m.put("mode", mode);
        m.put("layoutVersion", layoutVersion);
        m.put("creatorPid", creator == null ? null : creator.pid());
        m.put("creator", Processes.json(creator));
        m.put("createdAt", createdAt == null ? null : createdAt.toString());
        m.put("lockHolder", Processes.json(lockHolder));
        m.put("lockAcquisitions", lockAcquisitions);
        m.put("lockStaleRecoveries", staleRecoveries);
        m.put("lastStaleHolder", Processes.json(lastStaleHolder));
        m.put("maxAttached", maxAttached);
        m.put("attached", attached.stream().map(Processes::json).toList());
        m.put("pages", pages == null ? null : pagesJson());
        m.put("locks", locks.stream().map(l -> {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("lock", l.writerLock() ? "writer" : "slot " + l.slot());
            j.put("type", l.exclusive() ? "write" : "read");
            j.put("pid", l.pid() > 0 ? l.pid() : null);
            return j;
        }).toList());
        return m;
    }

    private Map<String, Object> pagesJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("effectivePageSize", pages.effectivePageSize());
        m.put("kernelPageSize", pages.kernelPageSize());
        m.put("hugetlb", pages.hugetlb());
        m.put("transparentHugeBytes", pages.transparentHugeBytes());
        m.put("residentBytes", pages.residentBytes());
        m.put("mappedBytes", pages.mappedBytes());
        return m;
    }

    List<String> toText() {
        List<String> lines = new ArrayList<>();
        String kind = switch (backing) {
            case FILE -> "a region in a file";
            case SHARED_MEMORY -> "POSIX shared memory";
            case ANONYMOUS -> "an anonymous memory file, received over a socket";
        };
        line(lines, "region", name + " (" + kind + (owner == null ? "" : ", owner " + ownerText()) + ")");
        line(lines, "layout", "version " + layoutVersion + "; header " + dataOffset + " bytes, so the data area starts at offset " + dataOffset);
        line(lines, "size", Strings.size(size) + " of data (" + size + " bytes); " + regionSize + " bytes with the header; generation "
            + generation + (generation == 1 ? " (never grown)" : ""));
        line(lines, "growth", reservedSpan > regionSize
            ? "may grow to " + Strings.size(reservedSpan - dataOffset) + " of data (reserved span " + reservedSpan + " bytes with the header)"
            : "cannot grow (created without RegionOptions.maxSize)");
        if (addressing == Addressing.DIRECT) {
            line(lines, "addressing", "DIRECT at base " + Strings.hex(recordedBase) + ": every process maps it there, stored references are addresses");
            if (offsetFallback) {
                line(lines, "", "(that base is taken in this process: inspected through a mapping at " + Strings.hex(mappedAt) + ")");
            }
        } else {
            line(lines, "addressing", "OFFSET: mapped anywhere, stored references are offsets from the region start");
        }
        if (pages != null) {
            line(lines, "pages", Strings.size(pages.effectivePageSize()) + " in effect, as the kernel reports it: " + pages.describe());
        }
        line(lines, "mode", mode);
        line(lines, "created", (createdAt == null ? "" : Processes.localTime(createdAt) + " ")
            + (creator == null ? "" : "by " + (creator.alive() ? Processes.describe(creator) : "pid " + creator.pid() + " (exited)")));
        String counts = "taken " + lockAcquisitions + (lockAcquisitions == 1 ? " time" : " times") + ", "
            + staleRecoveries + (staleRecoveries == 1 ? " stale recovery" : " stale recoveries")
            + (lastStaleHolder == null ? "" : " (last: pid " + lastStaleHolder.pid() + ")");
        List<LockHolding> readers = writerLocks().stream().filter(l -> !l.exclusive()).toList();
        List<LockHolding> writers = writerLocks().stream().filter(LockHolding::exclusive).toList();
        if (!readers.isEmpty()) {
            line(lines, "writer lock", "blocked by a read lock of " + pids(readers) + ": no writer can take it while that lock stays (a process with read access can do this; see docs/SECURITY.md); " + counts);
        } else if (lockHolder == null && !writers.isEmpty()) {
            line(lines, "writer lock", "held by writer " + pids(writers) + " (no holder recorded); " + counts);
        } else if (lockHolder == null) {
            line(lines, "writer lock", "free; " + counts);
        } else if (lockHolder.alive()) {
            line(lines, "writer lock", "held by " + Processes.describe(lockHolder) + "; " + counts);
        } else {
            line(lines, "writer lock", "stale: its holder pid " + lockHolder.pid() + " died holding it; the system released the lock"
                + " with the process and the next holder clears this record; " + counts);
        }
        line(lines, "attached", liveAttached() + " alive, " + maxAttached + " slots (read-only viewers such as inspect and watch are not listed)"
            + (attached.size() > liveAttached() ? "; a dead process's slot is reclaimed at the next attach" : ""));
        for (ProcessInfo p : attached) {
            line(lines, "", "  " + Processes.describe(p));
        }
        List<LockHolding> blocked = blockedSlots();
        if (!blocked.isEmpty()) {
            long slots = blocked.stream().mapToInt(LockHolding::slot).distinct().count();
            line(lines, "", "  " + slots + (slots == 1 ? " slot is" : " slots are") + " blocked by read locks of " + pids(blocked)
                + ": writable attaches cannot take " + (slots == 1 ? "it" : "them"));
        }
        return lines;
    }

    private static void line(List<String> lines, String label, String text) {
        lines.add(String.format("%-12s %s", label, text).stripTrailing());
    }
}
