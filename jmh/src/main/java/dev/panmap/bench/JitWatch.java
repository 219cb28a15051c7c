package dev.panmap.bench;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingStream;

/**
 * What the JIT does while a benchmark runs, from JFR's {@code jdk.Compilation} (every compilation, its
 * compiler and level, threshold 0) and {@code jdk.Deoptimization} events, read in this JVM as they
 * come (JFR flushes about once a second). A benchmark warms up until the methods that hold its hot
 * loops have a standard (not OSR) compilation at level 4, by C2 or by Graal ({@link #topTier}),
 * and counts what happens afterwards: compilations anywhere (the JIT's threads compete with the
 * benchmark for the CPUs), and compilations and deoptimisations of the hot methods (the code measured
 * changes). Works the same under C2 and JVMCI (Graal): both post the events (their compiler field says
 * "c2" or "jvmci").
 */
final class JitWatch implements AutoCloseable {
    private final RecordingStream stream = new RecordingStream();
    private final List<String> hot;
    private final AtomicInteger[] topTier;
    private final AtomicLong compiles = new AtomicLong();
    private final AtomicLong hotCompiles = new AtomicLong();
    private final AtomicLong hotDeopts = new AtomicLong();
    private final AtomicLong deopts = new AtomicLong();
    private final StringBuffer hotLog = new StringBuffer();

    /** @param hot the hot methods, as "Class.method" (simple class name) */
    JitWatch(List<String> hot) {
        this.hot = hot;
        this.topTier = hot.stream().map(h -> new AtomicInteger()).toArray(AtomicInteger[]::new);
        stream.enable("jdk.Compilation").withThreshold(Duration.ZERO);
        stream.enable("jdk.Deoptimization");
        stream.onEvent("jdk.Compilation", this::compiled);
        stream.onEvent("jdk.Deoptimization", this::deoptimised);
        stream.startAsync();
    }

    private int hotIndex(RecordedEvent e) {
        RecordedMethod m = e.getValue("method");
        if (m == null) {
            return -1;
        }
        String name = m.getType().getName();
        String simple = name.substring(name.lastIndexOf('.') + 1) + "." + m.getName();
        return hot.indexOf(simple);
    }

    private void compiled(RecordedEvent e) {
        compiles.incrementAndGet();
        int i = hotIndex(e);
        if (i >= 0 && !e.getBoolean("succeded")) {
            hotLog.append(String.format("%s %s L%d FAILED at %d ms; ", e.getString("compiler"), hot.get(i), e.getInt("compileLevel"),
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime()));
        } else if (i >= 0) {
            hotCompiles.incrementAndGet();
            int level = e.getInt("compileLevel");
            hotLog.append(String.format("%s %s L%d%s at %d ms; ", e.getString("compiler"), hot.get(i), level, e.getBoolean("isOsr") ? " OSR" : "",
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime()));
            if (level == 4 && !e.getBoolean("isOsr")) {
                topTier[i].incrementAndGet();
            }
        }
    }

    private void deoptimised(RecordedEvent e) {
        deopts.incrementAndGet();
        int i = hotIndex(e);
        if (i >= 0) {
            hotDeopts.incrementAndGet();
            hotLog.append(String.format("deopt %s (%s) at %d ms; ", hot.get(i), e.getString("reason"),
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime()));
        }
    }

    /** {@return whether the hot method {@code name} has had a standard compilation at level 4} */
    boolean topTier(String name) {
        return topTier[hot.indexOf(name)].get() > 0;
    }

    /** {@return the counts so far: compilations, deoptimisations, of the hot methods: compilations, deoptimisations} */
    long[] counts() {
        return new long[] {compiles.get(), deopts.get(), hotCompiles.get(), hotDeopts.get()};
    }

    /** {@return what happened to the hot methods so far, and forgets it} */
    String takeHotLog() {
        synchronized (hotLog) {
            String s = hotLog.toString();
            hotLog.setLength(0);
            return s;
        }
    }

    @Override
    public void close() {
        stream.close();
    }
}
