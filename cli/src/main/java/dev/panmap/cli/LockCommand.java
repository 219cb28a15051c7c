package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.ProcessInfo;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "lock", mixinStandardHelpOptions = true,
    customSynopsis = "panmap lock (NAME | --file PATH) [--hold SECONDS]",
    description = {"Takes a region's writer lock, holds it, releases it.", "",
        "Takes the writer lock (waiting while another process holds it), prints the holder line, holds the lock"
            + " for the given time or until interrupted, and releases it.",
        "Kill it with 'kill -9' while it holds the lock to see crash release: 'panmap inspect' then shows the"
            + " holder as dead, and the next 'panmap lock' gets the lock at once and reports the stale record.", ""})
final class LockCommand extends RegionCommand {
    @Option(names = "--hold", paramLabel = "SECONDS", description = "how long to hold the lock (default: until interrupted)")
    Double hold;

    @Override
    public Integer call() {
        Target target = target();
        if (hold != null && hold < 0) {
            throw usage("--hold must not be negative: " + hold);
        }
        PrintWriter out = out();
        try (StopSignal stop = new StopSignal(); SharedRegion region = target.open(OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            WriterLock lock = region.writerLock();
            long recoveriesBefore = lock.staleRecoveries();
            if (!lock.tryLock()) {
                out.println("waiting: the writer lock of " + target.label() + " is held by "
                    + lock.holder().map(Processes::describe).orElse("another process"));
                if (!acquire(lock, stop)) {
                    return 1;
                }
            }
            long taken = System.nanoTime();
            out.println("locked " + target.label() + ": holder " + lock.holder().map(Processes::describe).orElse("?")
                + " (this process)");
            if (lock.staleRecoveries() > recoveriesBefore) {
                ProcessInfo dead = lock.lastStaleHolder().orElse(null);
                out.println("recovered a stale lock: the previous holder" + (dead == null ? "" : ", pid " + dead.pid() + ",")
                    + " died holding it and the system released it");
            }
            if (hold == null) {
                out.println("holding until interrupted (Ctrl-C)");
                while (stop.sleep(Long.MAX_VALUE / 2)) {
                    // a stop signal ends the sleep
                }
            } else {
                stop.sleep((long) (hold * 1000));
            }
            lock.unlock();
            out.printf("released %s after %.1f s%n", target.label(), (System.nanoTime() - taken) / 1e9);
        }
        return 0;
    }

    /** Waits for the lock; {@return false if a stop signal came first} */
    private static boolean acquire(WriterLock lock, StopSignal stop) {
        while (!stop.stopped()) {
            try {
                if (lock.tryLock(Duration.ofSeconds(1))) {
                    return true;
                }
            } catch (InterruptedException e) {
                return false;
            }
        }
        return false;
    }
}
