package dev.panmap.stress;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.OpenMode;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.internal.posix.PosixPlatform;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Six threads open, grow, read, close, remove and recreate a few regions of three names at once,
 * sharing the region objects, so that closes race grows, refreshes and reads of the same object and
 * new regions reuse the ranges just closed. All the while the address book is audited against
 * {@code /proc/self/maps} ({@link PosixPlatform#auditMappings()}: inside each live range only its own
 * object) and every read checks that each page holds its own incarnation's tag or zero, never another
 * region's. A racing operation may end only with {@link IllegalStateException} (the region was
 * closed) or a documented refusal; anything else is a failure.
 *
 * <p>{@code -Dpanmap.stress.seconds} sets the length (default 3; the issue that found the races ran 60).
 */
@LinuxOnly // /proc/self/maps
class ReservationBookStressTest {
    private static final long PAGE = 4096;
    private static final int THREADS = 6;
    private static final int SLOTS = 8;

    private final List<String> names = List.of(Names.unique("book-a"), Names.unique("book-b"), Names.unique("book-c"));
    private final AtomicReferenceArray<SharedRegion> slots = new AtomicReferenceArray<>(SLOTS);
    private final Map<SharedRegion, Long> tags = new ConcurrentHashMap<>(); // each object's incarnation tag, once known
    private final AtomicLong nextTag = new AtomicLong(0x7a60_0000_0000_0000L);
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final List<String> failures = new CopyOnWriteArrayList<>();

    @Test
    void closesRacingGrowsAndReadsNeverMapOneRegionIntoAnother() throws Exception {
        PosixPlatform platform = (PosixPlatform) Platforms.current();
        long seconds = Math.round(Double.parseDouble(System.getProperty("panmap.stress.seconds", "3")));
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Thread th = new Thread(() -> {
                while (System.nanoTime() < end && failures.size() < 5) {
                    step();
                }
            }, "book-stress-" + t);
            threads.add(th);
            th.start();
        }
        long audits = 0;
        while (System.nanoTime() < end && failures.size() < 5) {
            List<String> problems = platform.auditMappings();
            audits++;
            problems.forEach(p -> failures.add("audit: " + p));
            Thread.sleep(5);
        }
        for (Thread th : threads) {
            th.join(60_000);
            assertThat(th.isAlive()).as("%s still running: hung", th.getName()).isFalse();
        }
        for (int i = 0; i < SLOTS; i++) {
            SharedRegion r = slots.getAndSet(i, null);
            if (r != null) {
                r.close();
            }
        }
        platform.auditMappings().forEach(p -> failures.add("final audit: " + p));
        for (String n : names) {
            try {
                SharedRegion.remove(n);
            } catch (RegionException e) {
                if (e.kind() != ErrorKind.NOT_FOUND) {
                    throw e;
                }
            }
        }
        Map<String, Long> sorted = new TreeMap<>();
        counts.forEach((k, v) -> sorted.put(k, v.sum()));
        System.out.println("reservation book stress: " + THREADS + " threads, " + seconds + " s, " + audits + " audits; " + sorted
            + "; failures " + failures.size());
        assertThat(failures).isEmpty();
    }

    private void count(String what) {
        counts.computeIfAbsent(what, k -> new LongAdder()).increment();
    }

    /** One random operation on a random slot. */
    private void step() {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int slot = rnd.nextInt(SLOTS);
        SharedRegion r = slots.get(slot);
        try {
            int op = rnd.nextInt(100);
            if (r == null || op < 12) {
                if (r == null) {
                    open(slot, rnd);
                }
            } else if (op < 40) {
                grow(r, rnd);
            } else if (op < 80) {
                read(r);
            } else if (op < 93) {
                if (slots.compareAndSet(slot, r, null)) {
                    r.close();
                    count("close");
                }
            } else {
                SharedRegion.remove(names.get(rnd.nextInt(names.size())));
                count("remove");
            }
        } catch (IllegalStateException e) {
            count("closed under it");
        } catch (RegionException e) {
            switch (e.kind()) {
                case NOT_FOUND -> count("not found");         // removed before it could be opened, or while waiting
                case LIMIT_REACHED -> count("span full");      // a grow past maxSize
                default -> failures.add(Thread.currentThread().getName() + ": " + e);
            }
        } catch (RuntimeException | Error e) {
            failures.add(Thread.currentThread().getName() + ": " + e);
        }
    }

    private void open(int slot, ThreadLocalRandom rnd) {
        String name = names.get(rnd.nextInt(names.size()));
        Addressing addressing = rnd.nextBoolean() ? Addressing.DIRECT : Addressing.OFFSET;
        RegionOptions options = RegionOptions.defaults().size(PAGE * (1 + rnd.nextInt(16))).maxSize(PAGE * 64)
            .addressing(addressing).allowOffsetFallback(true);
        SharedRegion r = SharedRegion.open(name, OpenMode.OPEN_OR_CREATE, options);
        if (r.created()) {
            long tag = nextTag.incrementAndGet();
            MemorySegment s = r.segment();
            for (long at = 0; at < s.byteSize(); at += PAGE) {
                s.set(JAVA_LONG, at, tag);
            }
            tags.put(r, tag);
            count("create");
        } else {
            count("attach");
        }
        if (!slots.compareAndSet(slot, null, r)) {
            r.close(); // another thread filled the slot first
        }
    }

    private void grow(SharedRegion r, ThreadLocalRandom rnd) {
        long before;
        try (var held = r.writerLock().hold()) { // sized under the lock: another object of the region may have grown it
            r.refresh();
            before = r.size();
            r.grow(before + PAGE * (1 + rnd.nextInt(3)));
        }
        count("grow");
        Long tag = tagOf(r);
        if (tag != null) {
            MemorySegment s = r.segment();
            for (long at = before; at < s.byteSize(); at += PAGE) {
                s.set(JAVA_LONG, at, tag); // this incarnation's tag in the new pages (a later grow may race: same value)
            }
        }
    }

    private void read(SharedRegion r) {
        Long tag = tagOf(r);
        MemorySegment s = r.segment();
        count("read");
        if (tag == null) {
            return;
        }
        for (long at = 0; at < s.byteSize(); at += PAGE) {
            long v = s.get(JAVA_LONG, at);
            if (v != 0 && v != tag) {
                failures.add("page " + at / PAGE + " of " + r + " holds tag " + Long.toHexString(v) + ", its own is " + Long.toHexString(tag));
                return;
            }
        }
    }

    /** {@return the tag of the incarnation {@code r} maps: the one its creator wrote at offset 0, once written} */
    private Long tagOf(SharedRegion r) {
        Long known = tags.get(r);
        if (known != null) {
            return known;
        }
        long v = r.segment().get(JAVA_LONG, 0);
        if (v == 0) {
            return null; // its creator has not tagged it yet
        }
        tags.put(r, v);
        return v;
    }
}
