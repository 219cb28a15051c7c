package dev.panmap.internal.windows;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * The one platform thread that owns every named mutex of one open section: a Windows mutex belongs
 * to the <em>thread</em> that waited on it, so every wait on and release of a section's lock mutexes
 * runs here, whichever thread (platform or virtual, of any carrier) asked. Ownership then follows the
 * open section handle, as an OFD lock follows its open file description on Linux: a lock held through
 * one handle makes a {@code tryLock} through another handle of the same process fail, any thread may
 * release it, and closing the handle releases what it holds.
 *
 * <p>Started at the handle's first lock call, ended by {@link #shutdown} when the handle closes. A
 * caller waits for its task without being interruptible (the task changes ownership: it must finish
 * either way) and keeps its interrupt status. Never call {@link #run} from a task.
 */
final class OwnerThread {
    private final ExecutorService executor;

    OwnerThread(String name) {
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "panmap-lock-owner " + name);
            t.setDaemon(true); // a handle the program forgot to close must not keep the JVM alive
            return t;
        });
    }

    /** Runs {@code task} on the owner thread and returns its result; its exception is rethrown here. */
    <T> T run(Supplier<T> task) {
        Future<T> future = executor.submit(task::get);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException r) {
                        throw r;
                    }
                    if (cause instanceof Error error) {
                        throw error;
                    }
                    throw new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Lets the thread end once its queue is empty (after the handle's last task). */
    void shutdown() {
        executor.shutdown();
    }
}
