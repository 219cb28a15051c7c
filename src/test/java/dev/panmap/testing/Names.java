package dev.panmap.testing;

import java.util.concurrent.atomic.AtomicInteger;

/** Unique shared-memory names per test, so parallel or leftover runs never collide. */
public final class Names {
    private Names() {}

    private static final AtomicInteger COUNTER = new AtomicInteger();

    public static String unique(String stem) {
        return "/panmap-test-" + stem + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
    }
}
