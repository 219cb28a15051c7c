package dev.panmap.internal;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A native handle (a POSIX file descriptor, a Windows {@code HANDLE}) that cannot be used after close,
 * even by a thread that raced with the close: every use holds it ({@link #acquire}) for the duration
 * of its system call, and the native handle is closed only when the last user lets go, so a call can
 * never land on a number the system has meanwhile given to another object.
 */
public abstract class CountedHandle implements Platform.Handle {
    private final AtomicInteger state = new AtomicInteger(); // users << 1 | closed

    /** Closes the native handle itself; called exactly once. */
    protected abstract void closeNative();

    /** Holds the handle until {@link #release()}; throws if it is closed. */
    public final void acquire() {
        while (true) {
            int s = state.get();
            if ((s & 1) != 0) {
                throw new IllegalStateException(description() + " is closed");
            }
            if (state.compareAndSet(s, s + 2)) {
                return;
            }
        }
    }

    /** Lets go of a hold taken by {@link #acquire()}. */
    public final void release() {
        if (state.addAndGet(-2) == 1) { // closed while we used it, and we were the last user
            closeNative();
        }
    }

    /** Closes now, or when the last user releases; idempotent. */
    public final void close() {
        while (true) {
            int s = state.get();
            if ((s & 1) != 0) {
                return;
            }
            if (state.compareAndSet(s, s | 1)) {
                if (s == 0) {
                    closeNative();
                }
                return;
            }
        }
    }

    /** {@return whether the native handle is still open (not closed, or waiting for its last user)} */
    public final boolean isOpen() {
        return state.get() != 1;
    }
}
