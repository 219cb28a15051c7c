package dev.panmap.testing;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.OpenMode;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import dev.panmap.internal.TestPoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * One race of the core, forced exactly with {@link TestPoints} in a fresh JVM (so that its address
 * book holds only this scenario's ranges), then judged. Prints one line, {@code RESULT ok ...} or
 * {@code RESULT fail ...}, and exits. Started by {@code CoreRaceTest} with
 * {@code -Dpanmap.testPoints=true}. Arguments: the scenario, then a name stem.
 *
 * <p>A thread is stopped at a point by {@link #stopAt}: the point's hook counts the thread as arrived
 * and parks it until {@link Stop#go()} (at most 10 s, so that a scenario never hangs on its own).
 */
public final class RaceChild {
    private static final long KIB = 1024;

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        String stem = args[1];
        if (scenario.equals("create-and-stall")) { // not a scenario: a creator that stops before publishing, for good
            TestPoints.install(point -> {
                if (point.equals("create.beforePublish")) {
                    System.out.println("STALLED " + ProcessHandle.current().pid());
                    System.out.flush();
                    LockSupport.park();
                }
            });
            SharedRegion.create(stem, RegionOptions.defaults().size(64 * KIB));
            return;
        }
        String result;
        try {
            result = switch (scenario) {
                case "grow-close-OFFSET" -> growOrRefreshRacingClose(stem, Addressing.OFFSET, false);
                case "grow-close-DIRECT" -> growOrRefreshRacingClose(stem, Addressing.DIRECT, false);
                case "refresh-close-OFFSET" -> growOrRefreshRacingClose(stem, Addressing.OFFSET, true);
                case "refresh-close-DIRECT" -> growOrRefreshRacingClose(stem, Addressing.DIRECT, true);
                case "attach-grow-OFFSET" -> attachRacingGrow(stem, Addressing.OFFSET);
                case "attach-grow-DIRECT" -> attachRacingGrow(stem, Addressing.DIRECT);
                case "lock-close" -> lockRacingClose(stem, "writerLock.afterOsLock");
                case "unlock-close" -> lockRacingClose(stem, "writerLock.unlock");
                case "close-ends-waits" -> closeEndsEveryWait(stem);
                case "lock-close-record" -> aLockTakenDuringACloseLeavesNoRecord(stem);
                case "failed-create-unlinked" -> attachWhileCreationFails(stem);
                case "failed-create-recreated" -> failedCreateMeetsARecreatedName(stem);
                default -> "fail unknown scenario " + scenario;
            };
        } catch (Throwable t) {
            java.io.StringWriter w = new java.io.StringWriter();
            t.printStackTrace(new java.io.PrintWriter(w));
            result = "fail " + t + " " + w.toString().replace('\n', '|');
        }
        System.out.println("RESULT " + result);
        System.out.flush();
        Runtime.getRuntime().halt(0); // threads a failing scenario left stuck must not keep the JVM
    }

    // ------------------------------------------------------------------ stopping threads at points

    /** Threads stopped at a point: how many arrived, and the gate that lets them go. */
    static final class Stop {
        final CountDownLatch arrived = new CountDownLatch(1);
        final CountDownLatch gate = new CountDownLatch(1);

        boolean awaitArrival() throws InterruptedException {
            return arrived.await(10, TimeUnit.SECONDS);
        }

        void go() {
            gate.countDown();
        }
    }

    private static final ConcurrentHashMap<String, Stop> STOPS = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<String, Runnable> THROW_AT = new ConcurrentHashMap<>(); // runs after the stop

    static {
        TestPoints.install(point -> {
            Stop s = STOPS.get(point + "@" + Thread.currentThread().getName());
            if (s == null) {
                return;
            }
            s.arrived.countDown();
            try {
                s.gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Runnable then = THROW_AT.remove(point + "@" + Thread.currentThread().getName());
            if (then != null) {
                then.run();
            }
        });
    }

    /** Stops the thread named {@code thread} when it reaches {@code point} (once). */
    static Stop stopAt(String point, String thread) {
        Stop s = new Stop();
        STOPS.put(point + "@" + thread, s);
        return s;
    }

    /** A thread of the scenario: runs {@code body}, its outcome (a word or the exception's class) in the future. */
    static CompletableFuture<String> thread(String name, java.util.concurrent.Callable<String> body) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(body.call());
            } catch (Throwable e) {
                f.complete(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return f;
    }

    static String outcome(CompletableFuture<String> f, long seconds) throws Exception {
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return "HUNG";
        }
    }

    // ------------------------------------------------------------------ the scenarios

    /**
     * Thread A grows R1 (or, {@code viaRefresh}, maps what another object of R1 grew) and is stopped
     * with the descriptor in hand, before it takes the address book. Thread B closes R1; then R2, twice
     * R1's size, is created where R1 was (DIRECT: at R1's base; OFFSET: in the reservation R1 left).
     * A goes on. Judged: R2's own write at a data offset past R1's old end reaches R2's object (seen
     * through a second mapping of R2), no mapping of R1's object lies inside R2's range, and A ended
     * by growing (before the close took effect) or with IllegalStateException.
     */
    static String growOrRefreshRacingClose(String stem, Addressing addressing, boolean viaRefresh) throws Exception {
        String n1 = stem + "-r1";
        String n2 = stem + "-r2";
        RegionOptions o1 = RegionOptions.defaults().size(64 * KIB).maxSize(512 * KIB).addressing(addressing);
        SharedRegion r1 = SharedRegion.create(n1, o1);
        long x = r1.baseAddress();
        SharedRegion other = null;
        try {
            if (viaRefresh) { // another object of R1 grows it; A's segment() then refreshes
                other = SharedRegion.open(n1, OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true));
                other.grow(128 * KIB);
            }
            Stop atBook = stopAt("mapMore.beforeBook", "A");
            CompletableFuture<String> a = thread("A", () -> {
                if (viaRefresh) {
                    return "refreshed to " + r1.segment().byteSize();
                }
                r1.grow(128 * KIB);
                return "grew to " + r1.size();
            });
            if (!atBook.awaitArrival()) {
                return "fail A never reached mapMore.beforeBook: " + outcome(a, 1);
            }
            CompletableFuture<String> b = thread("B", () -> {
                r1.close();
                return "closed";
            });
            String closed = outcome(b, 1).replace("HUNG", "still waiting"); // a correct close waits for A
            RegionOptions o2 = RegionOptions.defaults().size(256 * KIB).maxSize(512 * KIB).addressing(addressing);
            if (addressing == Addressing.DIRECT) {
                o2 = o2.baseAddress(x);
            }
            SharedRegion r2 = null;
            String r2Where;
            try {
                r2 = SharedRegion.create(n2, o2);
                r2Where = r2.baseAddress() == x ? "at R1's address" : "elsewhere (0x" + Long.toHexString(r2.baseAddress()) + ", R1 was at 0x"
                    + Long.toHexString(x) + "; reserved " + reserved() + ")";
            } catch (RegionException e) {
                r2Where = "refused (" + e.kind() + ") while R1 was still mapped";
            }
            atBook.go();
            String aEnded = outcome(a, 10);
            String bEnded = outcome(b, 10);
            if (r2 == null) {
                r2 = SharedRegion.create(n2, o2);
            }
            try {
                long probe = 96 * KIB; // inside R2's data, where R1's grow maps R1's bytes 64-128 KiB
                r2.segment().set(JAVA_LONG, probe, 0x5eed_0000_0000_0002L);
                long seen;
                try (SharedRegion again = SharedRegion.open(n2, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults().allowOffsetFallback(true))) {
                    seen = again.segment().get(JAVA_LONG, probe);
                }
                List<String> foreign = mappingsOf(n1, r2.baseAddress(), r2.baseAddress() + r2.reservedSpan());
                String story = "B first: " + closed + ", then " + bEnded + "; R2 " + r2Where + "; A: " + aEnded;
                // the close waits for the grow that was already mapping, which then completes
                boolean aOk = aEnded.startsWith("grew") || aEnded.startsWith("refreshed");
                if (seen != 0x5eed_0000_0000_0002L || !foreign.isEmpty() || !aOk || !closed.equals("still waiting")) {
                    return "fail " + story + "; R2's write seen by R2's object: " + (seen == 0x5eed_0000_0000_0002L)
                        + "; R1's object inside R2's range: " + foreign;
                }
                return "ok " + story;
            } finally {
                r2.close();
            }
        } finally {
            if (other != null) {
                other.close();
            }
            removeQuietly(n1);
            removeQuietly(n2);
        }
    }

    /**
     * An attach reads R's current size and is stopped there; another object grows R; the attach goes
     * on. Judged: the attached object's segment() covers the grown size (the attach took the
     * generation before the size, so it notices the grow), not the size it read first.
     */
    static String attachRacingGrow(String stem, Addressing addressing) throws Exception {
        String n = stem + "-g";
        try (SharedRegion r = SharedRegion.create(n, RegionOptions.defaults().size(64 * KIB).maxSize(1024 * KIB).addressing(addressing))) {
            Stop afterSize = stopAt("attach.afterSize", "attacher");
            CompletableFuture<SharedRegion> attached = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    attached.complete(SharedRegion.open(n, OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true)));
                } catch (Throwable e) {
                    attached.completeExceptionally(e);
                }
            }, "attacher");
            t.start();
            if (!afterSize.awaitArrival()) {
                return "fail the attach never reached attach.afterSize";
            }
            r.grow(256 * KIB);
            afterSize.go();
            try (SharedRegion a = attached.get(10, TimeUnit.SECONDS)) {
                long seen = a.segment().byteSize();
                String story = "grown to " + r.size() + " (generation " + r.generation() + "); the attach then sees " + seen
                    + " (generation " + a.generation() + ")";
                return seen == r.size() ? "ok " + story : "fail " + story + ": it stays behind";
            }
        } finally {
            removeQuietly(n);
        }
    }

    /**
     * Thread L holds the writer lock (or, for {@code writerLock.afterOsLock}, has just taken the OS
     * lock) and is stopped at {@code point}; thread W waits in lock(); the region is closed; L goes on.
     * Judged: W does not wait forever (it ends with IllegalStateException: the region is closed),
     * and L ends with IllegalStateException or having unlocked.
     */
    static String lockRacingClose(String stem, String point) throws Exception {
        String n = stem + "-l";
        SharedRegion r = SharedRegion.create(n, RegionOptions.defaults().size(64 * KIB));
        try {
            WriterLock lock = r.writerLock();
            Stop stop = stopAt(point, "L");
            CompletableFuture<String> l = thread("L", () -> {
                lock.lock();
                lock.unlock();
                return "locked and unlocked";
            });
            if (!stop.awaitArrival()) {
                return "fail L never reached " + point + ": " + outcome(l, 1);
            }
            CompletableFuture<String> w = thread("W", () -> {
                lock.lock();
                return "locked";
            });
            Thread.sleep(200); // W is waiting in lock() now
            r.close();
            stop.go();
            String lEnded = outcome(l, 5);
            String wEnded = outcome(w, 5);
            String story = "L: " + lEnded + "; W: " + wEnded;
            boolean ok = wEnded.startsWith("IllegalStateException") && !lEnded.equals("HUNG");
            return (ok ? "ok " : "fail ") + story;
        } finally {
            r.close();
            removeQuietly(n);
        }
    }

    /**
     * Thread L has just taken the OS lock and is stopped before it records itself as holder; thread B
     * closes the region and is stopped after the close took the lock from this object's holders (there
     * were none yet) and before it unmaps; L goes on, then B. Judged: L ends with
     * IllegalStateException, and the next holder (another object of the region) finds no record left
     * behind: no false stale recovery, no dead holder named.
     */
    static String aLockTakenDuringACloseLeavesNoRecord(String stem) throws Exception {
        String n = stem + "-rec";
        SharedRegion r = SharedRegion.create(n, RegionOptions.defaults().size(64 * KIB));
        try {
            Stop atOs = stopAt("writerLock.afterOsLock", "L");
            Stop afterAbandon = stopAt("close.afterAbandon", "B");
            CompletableFuture<String> l = thread("L", () -> {
                r.writerLock().lock();
                return "locked";
            });
            if (!atOs.awaitArrival()) {
                return "fail L never reached writerLock.afterOsLock: " + outcome(l, 1);
            }
            CompletableFuture<String> b = thread("B", () -> {
                r.close();
                return "closed";
            });
            if (!afterAbandon.awaitArrival()) {
                return "fail B never reached close.afterAbandon: " + outcome(b, 1);
            }
            atOs.go();
            String lEnded = outcome(l, 5);
            afterAbandon.go();
            String bEnded = outcome(b, 5);
            try (SharedRegion next = SharedRegion.open(n)) {
                next.writerLock().lock();
                long stale = next.writerLock().staleRecoveries();
                next.writerLock().unlock();
                String story = "L: " + lEnded + "; B: " + bEnded + "; the next holder counts " + stale + " stale recoveries";
                return (lEnded.startsWith("IllegalStateException") && stale == 0 ? "ok " : "fail ") + story;
            }
        } finally {
            r.close();
            removeQuietly(n);
        }
    }

    /**
     * Thread L takes the writer lock and keeps it (a long write, or a bug); thread W waits in lock(),
     * thread T in tryLock(60 s), thread G in grow(); the region is closed. Judged: each of the three
     * ends at once with IllegalStateException, without L ever unlocking.
     */
    static String closeEndsEveryWait(String stem) throws Exception {
        String n = stem + "-w";
        SharedRegion r = SharedRegion.create(n, RegionOptions.defaults().size(64 * KIB).maxSize(256 * KIB));
        try {
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            thread("L", () -> {
                r.writerLock().lock();
                held.countDown();
                never.await(); // keeps the lock, never unlocks
                return "";
            });
            held.await();
            CompletableFuture<String> w = thread("W", () -> {
                r.writerLock().lock();
                return "locked";
            });
            CompletableFuture<String> t = thread("T", () -> "tryLock " + r.writerLock().tryLock(Duration.ofSeconds(60)));
            CompletableFuture<String> g = thread("G", () -> {
                r.grow(128 * KIB);
                return "grew";
            });
            Thread.sleep(300);
            long closing = System.nanoTime();
            r.close();
            String story = "W: " + outcome(w, 5) + "; T: " + outcome(t, 5) + "; G: " + outcome(g, 5);
            long ms = (System.nanoTime() - closing) / 1_000_000;
            boolean ok = story.split("IllegalStateException").length == 4 && ms < 3_000;
            return (ok ? "ok " : "fail ") + story + " (" + ms + " ms after the close)";
        } finally {
            r.close();
            removeQuietly(n);
        }
    }

    /**
     * A creator fails after making the object (an injected failure before it publishes the header),
     * while another thread is attaching and waiting for the header. Judged: the attacher ends soon
     * after the failed creator removed the name, saying so, rather than waiting out its 10 s.
     */
    static String attachWhileCreationFails(String stem) throws Exception {
        String n = stem + "-c";
        Stop beforePublish = stopAt("create.beforePublish", "creator");
        THROW_AT.put("create.beforePublish@creator", () -> {
            throw new IllegalStateException("injected: the creator fails before publishing");
        });
        CompletableFuture<String> creator = thread("creator", () -> {
            SharedRegion.create(n, RegionOptions.defaults().size(64 * KIB)).close();
            return "created";
        });
        if (!beforePublish.awaitArrival()) {
            return "fail the creator never reached create.beforePublish: " + outcome(creator, 1);
        }
        long start = System.nanoTime();
        CompletableFuture<String> attacher = thread("attacher", () -> {
            SharedRegion.open(n, OpenMode.OPEN_ONLY, RegionOptions.defaults().attachTimeout(Duration.ofSeconds(10))).close();
            return "attached";
        });
        Thread.sleep(300); // the attacher has the object open and waits for its header
        beforePublish.go();
        String c = outcome(creator, 5);
        String a = outcome(attacher, 15);
        long ms = (System.nanoTime() - start) / 1_000_000;
        removeQuietly(n);
        String story = "creator: " + c + "; attacher after " + ms + " ms: " + a;
        boolean ok = a.contains("RegionException") && a.contains("removed") && ms < 3_000;
        return (ok ? "ok " : "fail ") + story;
    }

    /**
     * A creator fails before publishing its header and, before its cleanup removes what it made,
     * another creator removes the name and makes a region of its own under it. Judged: the failed
     * creator's cleanup leaves the new region alone.
     */
    static String failedCreateMeetsARecreatedName(String stem) throws Exception {
        String n = stem + "-x";
        THROW_AT.put("create.beforePublish@creator", () -> {
            throw new IllegalStateException("injected: the creator fails before publishing");
        });
        STOPS.put("create.beforePublish@creator", released()); // passes at once, then throws
        Stop beforeRemove = stopAt("create.beforeRemove", "creator");
        CompletableFuture<String> creator = thread("creator", () -> {
            SharedRegion.create(n, RegionOptions.defaults().size(64 * KIB)).close();
            return "created";
        });
        if (!beforeRemove.awaitArrival()) {
            return "fail the creator never reached create.beforeRemove: " + outcome(creator, 1);
        }
        SharedRegion.remove(n); // someone else clears the name and makes their own region
        try (SharedRegion mine = SharedRegion.create(n, RegionOptions.defaults().size(64 * KIB))) {
            mine.segment().set(JAVA_LONG, 0, 77);
            beforeRemove.go();
            String c = outcome(creator, 5);
            String left;
            try (SharedRegion again = SharedRegion.open(n, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
                left = "the new region is still there (" + again.segment().get(JAVA_LONG, 0) + ")";
            } catch (RegionException e) {
                left = "the new region is gone: " + e.kind() + " " + e.getMessage();
            }
            return (left.startsWith("the new region is still there") ? "ok " : "fail ") + "creator: " + c + "; " + left;
        } finally {
            removeQuietly(n);
        }
    }

    private static Stop released() {
        Stop s = new Stop();
        s.go();
        return s;
    }

    // ------------------------------------------------------------------ helpers

    /** {@return the /proc/self/maps lines of {@code /dev/shm/NAME} (any incarnation) that overlap {@code [from, to)}} */
    static List<String> mappingsOf(String name, long from, long to) throws IOException {
        String file = "/dev/shm/" + (name.startsWith("/") ? name.substring(1) : name);
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] f = line.trim().split("\\s+", 6);
            if (f.length < 6 || !f[5].startsWith(file) || !(f[5].equals(file) || f[5].equals(file + " (deleted)"))) {
                continue;
            }
            String[] range = f[0].split("-");
            long start = Long.parseUnsignedLong(range[0], 16);
            long end = Long.parseUnsignedLong(range[1], 16);
            if (start < to && from < end) {
                out.add(line);
            }
        }
        return out;
    }

    static String reserved() {
        StringBuilder b = new StringBuilder();
        for (long[] r : ((dev.panmap.internal.posix.PosixPlatform) dev.panmap.internal.Platforms.current()).reservedRanges()) {
            b.append(Long.toHexString(r[0])).append('-').append(Long.toHexString(r[1])).append(r[2] == 1 ? "a " : "f ");
        }
        return b.toString();
    }

    static void removeQuietly(String name) {
        try {
            SharedRegion.remove(name);
        } catch (RegionException e) {
            if (e.kind() != ErrorKind.NOT_FOUND) {
                throw e;
            }
        }
    }
}
