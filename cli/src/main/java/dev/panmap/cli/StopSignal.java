package dev.panmap.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Lets a command that runs until interrupted ({@code watch}, {@code lock}) end cleanly on SIGINT or
 * SIGTERM: a shutdown hook interrupts the command's thread and waits (a few seconds at most) until
 * the command has closed what it holds, so that it releases the writer lock and leaves the attach
 * table itself rather than leave a stale record behind. Close it after the region, with
 * try-with-resources: {@code try (StopSignal stop = new StopSignal(); SharedRegion r = ...)}.
 */
final class StopSignal implements AutoCloseable {
    private final Thread worker = Thread.currentThread();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook = new Thread(this::stop, "panmap-stop");
    private volatile boolean stopped;

    StopSignal() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    private void stop() {
        stopped = true;
        worker.interrupt();
        try {
            finished.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@return whether a signal asked the command to stop} */
    boolean stopped() {
        return stopped;
    }

    /** Sleeps; {@return false if a stop signal cut the sleep short (or had already come)} */
    boolean sleep(long millis) {
        if (stopped) {
            return false;
        }
        try {
            Thread.sleep(millis);
            return !stopped;
        } catch (InterruptedException e) {
            return false;
        }
    }

    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it returns now that finished is counted down
        }
    }
}
