package dev.panmap.jcstress;

import dev.panmap.Addressing;
import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * One shared-memory region per test class and test VM, carved into a ring of small slabs: every
 * jcstress state takes the next slab and builds its structure there.
 *
 * <p><b>Why a ring.</b> jcstress makes a new state object for every sample, millions per second; a
 * region per state would cost a system call or five each. A state only needs a few hundred bytes,
 * so a test class creates one region, lazily, in a static holder, and hands out slabs round robin.
 * jcstress keeps at most {@code strideSize * strideCount} states alive (10,240 with its defaults,
 * which the Makefile does not raise) and replaces them one round at a time, so every live state was
 * made in the last 2 x 10,240 slab hand-outs: a ring of {@link #SLABS} slabs never gives a live
 * state's slab to a new one. The structures zero what they allocate, so a reused slab needs no
 * cleaning; tests that lay raw words ({@link #slab(boolean)} with {@code true}) zero it themselves.
 *
 * <p><b>The writer lock.</b> Writers must hold the region's writer lock, which is not reentrant and
 * costs two {@code fcntl} calls per lock/unlock pair: 1.1-1.6 us here, against 6 ns for a
 * {@code HashIndex.put}. Taken around every write, the writer actor would run ~200 times slower than
 * the reader and the two would hardly ever meet inside a write. So each writer thread instead gets
 * its own {@link SharedRegion} object of the same region ({@link #writer()}), takes that object's
 * lock once and keeps it for its life; the writer actor writes through a handle on the state's
 * structure attached via that object. jcstress starts new actor threads for each iteration (and for
 * its sanity and footprint checks) and joins the old ones first; the next writer thread closes the
 * dead one's object, which gives the OS lock back, and takes its own. The attach (tens of ns, against
 * a few ns for a write) is made in advance, when the state is made, through the writer object of the
 * moment ({@link Writers}), so the writer actor does no more than the write. Readers use the region
 * object the structure was created with and take no lock. In a DIRECT region the writer objects are
 * mapped at another address of this process (the offset fallback), so writers store the region's
 * references through a second mapping of the same pages, as a writer in another process would.
 *
 * <p><b>Cleanup.</b> The writer objects open the region by name, so the name lives as long as the
 * test VM: a shutdown hook removes it, and each new region first removes the leftovers of test VMs
 * that were killed (names carry the pid; only those of processes that are gone are touched).
 */
public final class TestRegion {
    /** Slabs in the ring: more than twice the live states jcstress keeps at its default stride settings. */
    public static final int SLABS = 1 << 16;
    static final String PREFIX = "panmap-jcstress-";

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Set<String> CREATED = ConcurrentHashMap.newKeySet();

    /**
     * Every writer thread opens a DIRECT region a second time in this process, necessarily at another
     * address, and panmap says so with a WARNING each time (hundreds per test VM): expected here.
     */
    private static final Logger PANMAP_LOG = Logger.getLogger("dev.panmap");

    static {
        PANMAP_LOG.setLevel(Level.SEVERE);
        removeLeftovers();
        Runtime.getRuntime().addShutdownHook(new Thread(TestRegion::removeCreated, "panmap-jcstress cleanup"));
    }

    private final String name;
    private final SharedRegion region;
    private final Addressing addressing;
    private final int slabSize;
    private final AtomicLong next = new AtomicLong();
    private volatile Writer writer;

    /** The writer thread of the moment and its own region object, whose writer lock it holds. */
    private record Writer(Thread thread, SharedRegion region) {}

    private TestRegion(Addressing addressing, int slabSize) {
        if (slabSize < 64 || slabSize % 64 != 0) {
            throw new IllegalArgumentException("slab size must be a multiple of 64: " + slabSize);
        }
        this.addressing = addressing;
        this.slabSize = slabSize;
        this.name = "/" + PREFIX + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        CREATED.add(name);
        RegionOptions options = RegionOptions.defaults()
            .size((long) SLABS * slabSize)
            .addressing(addressing)
            .reserve(false); // tmpfs pages come on first touch; no need to reserve 64 MiB up front
        this.region = SharedRegion.create(name, options);
    }

    /** {@return a new region of {@link #SLABS} slabs of {@code slabSize} bytes (a multiple of 64)} */
    /**
     * {@return a new descriptor of this region's shared-memory object}: another open file description,
     * as another process would hold (its byte locks conflict with every other description's)
     */
    public dev.panmap.internal.Platform.Handle openHandle() {
        return Processes.PLATFORM.open(dev.panmap.internal.Platform.Target.shm(name), true);
    }

    public static TestRegion create(Addressing addressing, int slabSize) {
        return new TestRegion(addressing, slabSize);
    }

    /** {@return the region object the states build their structures with, and readers read through} */
    public SharedRegion region() {
        return region;
    }

    public Addressing addressing() {
        return addressing;
    }

    public int slabSize() {
        return slabSize;
    }

    /** {@return the data offset of the next slab of the ring} (structures zero what they allocate) */
    public long slab() {
        return (next.getAndIncrement() & (SLABS - 1)) * (long) slabSize;
    }

    /** {@return the data offset of the next slab, zeroed first if {@code zero}} */
    public long slab(boolean zero) {
        long offset = slab();
        if (zero) {
            region.segment().asSlice(offset, slabSize).fill((byte) 0);
        }
        return offset;
    }

    /** {@return the slab at {@code offset} as a segment of the main region object} */
    public MemorySegment segment(long offset) {
        return region.segment().asSlice(offset, slabSize);
    }

    /**
     * {@return this thread's own object of the region, whose writer lock this thread holds}: the
     * first call on a new writer thread waits for the previous writer thread to end (jcstress has
     * joined it already), closes that thread's object (giving the OS lock back) and opens and locks
     * a new one. Only one thread at a time may write: a second live writer thread is an error.
     */
    public SharedRegion writer() {
        Writer w = writer;
        if (w != null && w.thread == Thread.currentThread()) {
            return w.region;
        }
        return takeOver();
    }

    /**
     * {@return the writer thread's region object of the moment, or null}, for a state to attach its
     * writer's handle in advance (off the race); it may be closed later, when another writer thread
     * takes over, so compare it with {@link #writer()} before use (see {@link Writers}).
     */
    public SharedRegion currentWriter() {
        Writer w = writer;
        return w == null ? null : w.region;
    }

    private synchronized SharedRegion takeOver() {
        Writer old = writer;
        if (old != null && old.thread != Thread.currentThread()) {
            try {
                old.thread.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the previous writer thread", e);
            }
            if (old.thread.isAlive()) {
                throw new IllegalStateException("two writer threads at once on " + name + ": " + old.thread.getName()
                    + " still runs; a test may have only one writing actor");
            }
            old.region.close(); // the OS lock goes with the descriptor
            writer = null;
        } else if (old != null) {
            return old.region;
        }
        SharedRegion mine = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true));
        mine.writerLock().lock();
        writer = new Writer(Thread.currentThread(), mine);
        return mine;
    }

    private static void removeCreated() {
        for (String n : CREATED) {
            try {
                SharedRegion.remove(n);
            } catch (RuntimeException e) {
                // already gone: nothing to do
            }
        }
    }

    /** Removes the regions of test VMs that were killed before their shutdown hook ran. */
    static int removeLeftovers() {
        Path shm = Path.of("/dev/shm");
        if (!Files.isDirectory(shm)) {
            return 0;
        }
        int removed = 0;
        try (Stream<Path> files = Files.list(shm)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String file = p.getFileName().toString();
                if (!file.startsWith(PREFIX)) {
                    continue;
                }
                String rest = file.substring(PREFIX.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).isEmpty()) {
                    try {
                        SharedRegion.remove("/" + file);
                        removed++;
                    } catch (RuntimeException e) {
                        // someone else removed it first
                    }
                }
            }
        } catch (IOException e) {
            // cannot list /dev/shm: leave it
        }
        return removed;
    }
}
