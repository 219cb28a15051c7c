package dev.panmap.demo;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.ProcessInfo;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * {@code make demo}: the showcase, in a few seconds. This JVM is the primary: it creates a DIRECT and
 * an OFFSET region, starts a reader and a writer JVM ({@link DemoChild}) that attach to both, lets the
 * writer stream updates that the reader prints live, kills the writer with SIGKILL while it holds the
 * writer lock, shows the lock released and the data intact, times a pointer chase in both modes and
 * removes everything, also when a step fails or the demo is interrupted. Each step is one numbered
 * line: what happened and what it shows. Every claim is checked; a failed check ends the demo with
 * exit status 1.
 */
public final class Demo {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long REGION_SIZE = 8 << 20;
    private static final int UPDATES = 5;
    private static final long UPDATE_PAUSE_MILLIS = 200;
    private static final int NODES = 1 << 14; // 16-byte nodes: 256 KiB, in L2, where the add shows
    private static final long NODES_FROM = (Message.SIZE + 4095) & -4096; // past the message record

    private final PrintStream out = System.out;
    private final long pid = ProcessHandle.current().pid();
    private final String directName = "/panmap-demo-" + pid + "-direct";
    private final String offsetName = "/panmap-demo-" + pid + "-offset";
    private final List<String> created = new CopyOnWriteArrayList<>();
    private final AtomicBoolean cleanedUp = new AtomicBoolean();
    private volatile SharedRegion direct;
    private SeqRecord message;
    private volatile SharedRegion offset;
    private volatile Secondary reader;
    private volatile Secondary writer;
    private int step;

    private Demo() {}

    public static void main(String[] args) {
        Demo demo = new Demo();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> { // Ctrl-C, kill
            if (demo.cleanUp()) {
                System.err.println("demo interrupted: stopped the secondaries, removed its regions");
            }
        }, "demo-cleanup"));
        int status = 0;
        try {
            demo.run();
        } catch (RuntimeException e) {
            System.err.println("demo failed after step " + demo.step + ": " + e.getMessage());
            status = 1;
        } finally {
            demo.cleanUp();
        }
        System.exit(status);
    }

    private void run() {
        long started = System.nanoTime();
        out.println("panmap demo: this JVM (pid " + pid + ") is the primary; two more JVMs attach to its regions");

        RegionOptions options = RegionOptions.defaults().size(REGION_SIZE);
        direct = SharedRegion.create(directName, options.addressing(Addressing.DIRECT));
        created.add(directName);
        message = Message.format(direct);
        step("created " + directName + ": DIRECT, 8M, at base " + hex(direct.baseAddress())
            + ", recorded in its header: every process will map it there");
        offset = SharedRegion.create(offsetName, options);
        created.add(offsetName);
        step("created " + offsetName + ": OFFSET, 8M, mapped where the system chose, " + hex(offset.baseAddress()));

        reader = Secondary.start("reader", directName, offsetName);
        writer = Secondary.start("writer", directName, offsetName);
        Map<String, String> r = fields(reader.await("ATTACHED ", WAIT));
        Map<String, String> w = fields(writer.await("ATTACHED ", WAIT));
        step("started a reader JVM (pid " + reader.pid() + ") and a writer JVM (pid " + writer.pid()
            + "); each attached to both regions by name");
        String base = hex(direct.baseAddress());
        check(base.equals(r.get("direct")) && base.equals(w.get("direct")),
            "the DIRECT region is at " + base + " here but at " + r.get("direct") + " and " + w.get("direct") + " in the secondaries");
        step("DIRECT region at " + base + " in all three processes: an address stored in it is valid in each, as it is");
        step("OFFSET region at " + hex(offset.baseAddress()) + ", " + r.get("offset") + ", " + w.get("offset")
            + (r.get("offset").equals(w.get("offset")) ? "" : ": not the same") + ", so references in it are offsets");
        List<ProcessInfo> attached = direct.attachedProcesses();
        check(attached.stream().filter(ProcessInfo::alive).map(p -> (long) p.pid()).toList().containsAll(List.of(pid, reader.pid(), writer.pid())),
            "the attach table does not list all three processes: " + attached);
        step("the DIRECT region's attach table lists pids " + pid + ", " + reader.pid() + ", " + writer.pid()
            + ", all alive: what 'panmap inspect' shows");

        writer.send("stream " + UPDATES + " " + UPDATE_PAUSE_MILLIS);
        step("the writer streams " + UPDATES + " updates under the writer lock, " + UPDATE_PAUSE_MILLIS
            + " ms apart; the reader, started once, prints each as it lands:");
        String last;
        do { // one line per update the reader saw (a slow reader may skip one: it shows the latest)
            last = reader.await("SAW ", WAIT);
            out.println("      reader prints: " + last.substring(last.indexOf(' ') + 1));
        } while (!last.startsWith(UPDATES + " "));
        writer.await("STREAMED", WAIT);

        writer.send("hold");
        writer.await("HOLDING", WAIT);
        WriterLock lock = direct.writerLock();
        ProcessInfo holder = lock.holder().orElseThrow(() -> new IllegalStateException("the writer holds the lock but the header names no holder"));
        check(holder.pid() == writer.pid() && holder.alive(), "the header names " + holder + " as holder, not the writer");
        step("the writer takes the writer lock and keeps it: the header names pid " + holder.pid() + " (alive) as holder");

        int status = writer.kill();
        step("the writer is killed with SIGKILL while holding the lock (exit status " + status + "): no unlock, no cleanup ran");
        holder = lock.holder().orElseThrow(() -> new IllegalStateException("the holder record vanished with the writer"));
        check(holder.pid() == writer.pid() && !holder.alive(), "after the kill the header names " + holder);
        step("the header still names pid " + holder.pid() + ", now dead: a stale record, nothing more;"
            + " the system released the lock with the process");

        long before = System.nanoTime();
        boolean locked;
        try {
            locked = lock.tryLock(WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while taking the lock", e);
        }
        check(locked, "the primary could not take the lock within " + WAIT.toSeconds() + " s");
        double millis = (System.nanoTime() - before) / 1e6;
        ProcessInfo stale = lock.lastStaleHolder().orElse(null);
        check(stale != null && stale.pid() == writer.pid() && lock.staleRecoveries() == 1,
            "expected one stale recovery of the writer, found " + lock.staleRecoveries() + ", last " + stale);
        step(String.format("the primary takes the lock at once (%.1f ms, no timeout to wait out): stale recoveries %d, last stale holder pid %d",
            millis, lock.staleRecoveries(), stale.pid()));

        Message.Snapshot snapshot = Message.read(message);
        check(snapshot.update() == UPDATES && snapshot.intact() && last.equals(snapshot.update() + " " + snapshot.text()),
            "the data after the crash is not the last update: " + snapshot);
        step("the data is intact: update " + snapshot.update() + " is whole, its checksum right; what was written before the crash survives it");

        Message.write(message, UPDATES + 1, "update " + (UPDATES + 1) + " from the primary, after the crash");
        lock.unlock();
        step("the primary writes update " + (UPDATES + 1) + " and unlocks; the reader, never restarted, prints it:");
        String seen = reader.await("SAW ", WAIT);
        out.println("      reader prints: " + seen.substring(seen.indexOf(' ') + 1));

        step(timing());

        cleanUp();
        check(created.isEmpty(), "could not remove " + created);
        step("cleaned up: the reader stopped, both regions closed and removed; nothing of the demo is left in /dev/shm");
        out.printf("done in %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    /** The rough pointer-vs-offset line. */
    private String timing() {
        check(direct.references().isDirect(), "the DIRECT region is not directly addressed here");
        long seed = System.nanoTime();
        long directHead = Chase.build(direct, NODES_FROM, NODES, seed);
        long offsetHead = Chase.build(offset, NODES_FROM, NODES, seed);
        Chase.Timing d = Chase.direct(directHead, NODES);
        Chase.Timing o = Chase.offset(offset, offsetHead, NODES);
        for (int i = 0; i < 4; i++) { // alternate, keep each mode's best: less at the mercy of one noisy moment
            d = Chase.best(d, Chase.direct(directHead, NODES));
            o = Chase.best(o, Chase.offset(offset, offsetHead, NODES));
        }
        long expected = (long) NODES * (NODES - 1) / 2;
        check(d.sum() == expected && o.sum() == expected, "the chases visited the wrong nodes: " + d + " " + o);
        return String.format("rough timing (a demo, not a benchmark: see 'make bench'): chasing %d nodes (256 KiB, in L2) in random order,"
            + " DIRECT %.1f ns/node, OFFSET %.1f ns/node, OFFSET/DIRECT %.2f",
            NODES, d.nanosPerNode(), o.nanosPerNode(), o.nanosPerNode() / d.nanosPerNode());
    }

    /**
     * Stops the secondaries, closes and removes the regions; idempotent, also run on Ctrl-C.
     * {@return whether this call did it (false: it was done already)}
     */
    private boolean cleanUp() {
        if (!cleanedUp.compareAndSet(false, true)) {
            return false;
        }
        for (AutoCloseable c : new AutoCloseable[] {reader, writer, direct, offset}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("demo cleanup: " + e.getMessage());
                }
            }
        }
        for (String name : created) {
            try {
                SharedRegion.remove(name);
                created.remove(name);
            } catch (RegionException e) {
                if (e.kind() == ErrorKind.NOT_FOUND) {
                    created.remove(name);
                } else {
                    System.err.println("demo cleanup: could not remove " + name + ": " + e.getMessage());
                }
            }
        }
        return true;
    }

    private void step(String text) {
        out.printf("%2d. %s%n", ++step, text);
    }

    private static void check(boolean condition, String failure) {
        if (!condition) {
            throw new IllegalStateException(failure);
        }
    }

    /** {@return the {@code key=value} words of a line} */
    private static Map<String, String> fields(String line) {
        return java.util.Arrays.stream(line.trim().split("\\s+")).filter(s -> s.contains("="))
            .collect(Collectors.toMap(s -> s.substring(0, s.indexOf('=')), s -> s.substring(s.indexOf('=') + 1)));
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }
}
