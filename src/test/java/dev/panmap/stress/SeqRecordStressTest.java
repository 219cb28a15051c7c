package dev.panmap.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link SeqRecord} across processes: a writer process writes versions 1, 2, ... flat out, each payload
 * word derived from the version (and a checksum), while two reader processes {@code read()} flat out
 * and check every copy. Between kills the test stops the writer (SIGSTOP) for {@value #STALL_MICROS}
 * us at a time wherever it happens to be, over and over (hundreds of times), and checks that both
 * readers go on reading while it stands still. Twice it kills the writer (SIGKILL, most likely in the middle of a write: it
 * spends most of its time there), checks that the readers go on reading while no writer is alive, and
 * starts another writer, which repairs the interrupted slot. Forbidden: a copy that mixes words of two
 * writes, a payload that is not the version {@code read()} returned, a version going back, a reader
 * stuck behind a stopped or dead writer.
 */
@LinuxOnly
class SeqRecordStressTest {
    /** How long readers may go without finishing 1024 reads while no writer is alive. */
    private static final long STUCK_MILLIS = 1000;
    private static final int KILLS = 2;
    /** How long a writer writes, at least, before it is killed. */
    private static final long WRITE_BEFORE_KILL_NANOS = 200_000_000;
    /** How long each stop of the writer lasts, and how long it runs between stops. */
    static final long STALL_MICROS = 1000;
    /** Stops of the writer the run must have made (SIGSTOP, then SIGCONT once both readers read on). */
    private static final int MIN_STALLS = 100;
    private static final long RUN_BETWEEN_STALLS_MICROS = 1000;
    /** From the stop signal to counting the readers' reads: the stop takes effect in microseconds. */
    private static final long SETTLE_MICROS = 200;

    @Test
    void readersNeverSeeAMixOfTwoWrites() {
        try (StressRun run = StressRun.create("SeqRecord", RegionOptions.defaults().size(1 << 20)); Signals signals = new Signals()) {
            SeqRecord.format(run.region, Control.AREA, StressChild.SEQ_WORDS * 8);
            Killer killer = new Killer(run, run.start("seq-writer", 0), signals);
            run.start("seq-reader", 1);
            run.start("seq-reader", 2);
            run.awaitHot();

            Duration length = StressRun.STRESS;
            killer.schedule(System.nanoTime(), length);
            run.measure(length, killer::tick, Duration.ofNanos(100_000));
            long deadline = System.nanoTime() + ChildJvm.scaled(Duration.ofSeconds(60)).toNanos();
            // on a slow machine the writers start late and each stop lasts longer: go on until every kill
            // and the stops asserted below are done and the last writer writes (its first write repairs an
            // interrupted one); under QEMU at load 9, 91 stops fitted in the run's length
            while (!run.failed() && (killer.kills < KILLS || killer.stalls <= MIN_STALLS || killer.writing == 0) && System.nanoTime() < deadline) {
                run.pump();
                killer.tick();
                StressRun.sleep(5);
            }
            killer.release();
            run.stop();
            SeqRecord record = SeqRecord.attach(run.region, Control.AREA);
            run.figure("writer stopped (SIGSTOP, " + STALL_MICROS + " us or until both readers read on) " + killer.stalls
                + " times; each reader read on (256 reads or more) in every stop");
            run.figure("writers killed: " + killer.kills + ", interrupted writes repaired: " + record.repairedWrites()
                + ", version: " + record.version() + "; with no writer alive, 1024 more reads by each reader took at most "
                + killer.longestGapMillis + " ms");
            run.verify();
            assertThat(killer.kills).as("writers killed").isEqualTo(KILLS);
            assertThat(killer.stalls).as("writer stops").isGreaterThan(MIN_STALLS);
            assertThat(run.total("seq-reader", "checks")).as("copies checked").isGreaterThan(100_000);
            assertThat(run.total("seq-reader", "versions")).as("versions seen change").isGreaterThan(1_000);
        }
    }

    /** A shell that sends signals on request with its built-in kill: no process start per signal. */
    private static final class Signals implements AutoCloseable {
        private final Process shell;
        private final java.io.PrintWriter in;
        private final java.io.BufferedReader out;

        Signals() {
            try {
                shell = new ProcessBuilder("sh", "-c", "while read s p; do kill -$s $p; echo \"$?\"; done").start();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            in = new java.io.PrintWriter(shell.getOutputStream(), true, java.nio.charset.StandardCharsets.UTF_8);
            out = new java.io.BufferedReader(new java.io.InputStreamReader(shell.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
        }

        /** Sends SIG{@code name} to {@code pid} and waits until it is sent. */
        void send(String name, long pid) {
            in.println(name + " " + pid);
            try {
                String status = out.readLine();
                if (!"0".equals(status)) {
                    throw new AssertionError("kill -" + name + " " + pid + ": exit status " + status);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            shell.destroyForcibly();
        }
    }

    /**
     * Stops the writer again and again while it writes, and kills it {@link #KILLS} times, each after
     * it wrote a while; checks that the readers read on while it is stopped and between writers.
     */
    private static final class Killer {
        private final StressRun run;
        private StressRun.Kid writer;
        private final long[] killAt = new long[KILLS];
        private final long[] progressAtKill = new long[3];
        int kills;
        long writing; // when the current writer was first seen writing, 0 before
        private long gapStart; // when the last writer was killed, 0 while one is alive
        long longestGapMillis;
        int stalls;
        private long stalledAt; // when the writer was stopped, 0 while it runs
        private long nextStall;
        private final long[] progressInStall = new long[3];

        private final Signals signals;

        Killer(StressRun run, StressRun.Kid writer, Signals signals) {
            this.run = run;
            this.writer = writer;
            this.signals = signals;
        }

        void schedule(long start, Duration length) {
            for (int k = 0; k < KILLS; k++) {
                killAt[k] = start + length.toNanos() * (k + 1) / (KILLS + 1);
            }
        }

        void tick() {
            long now = System.nanoTime();
            if (stalledAt != 0) {
                stalled(now);
                return;
            }
            if (gapStart == 0) {
                if (writing == 0 && run.control.progress(0) > 0) {
                    writing = now;
                    nextStall = now + RUN_BETWEEN_STALLS_MICROS * 1_000;
                }
                if (writing != 0 && now >= nextStall && !(kills < KILLS && now >= killAt[kills])) {
                    signal("STOP");
                    stalledAt = System.nanoTime();
                    progressInStall[0] = -1;
                    return;
                }
                if (kills < KILLS && writing != 0 && now - writing >= WRITE_BEFORE_KILL_NANOS && now >= killAt[kills]) {
                    run.kill(writer);
                    kills++;
                    for (int j = 1; j <= 2; j++) {
                        progressAtKill[j] = run.control.progress(j);
                    }
                    gapStart = System.nanoTime();
                }
                return;
            }
            boolean allRead = true;
            for (int j = 1; j <= 2; j++) {
                allRead &= run.control.progress(j) >= progressAtKill[j] + 1024;
            }
            long gap = (now - gapStart) / 1_000_000;
            if (allRead) {
                longestGapMillis = Math.max(longestGapMillis, gap);
                gapStart = 0;
                writing = 0;
                run.control.progress(0, 0);
                writer = run.start("seq-writer", 0);
            } else if (gap > STUCK_MILLIS) {
                run.anomaly("SeqRecord: a reader finished no read in " + gap + " ms while no writer was alive"
                    + " (the published slot is not whole: a killed writer's unfinished write is visible)");
            }
        }

        /** While the writer is stopped: counts the readers' reads from {@link #SETTLE_MICROS} after the stop to its end. */
        private void stalled(long now) {
            long since = (now - stalledAt) / 1_000; // microseconds
            if (progressInStall[0] == -1) {
                if (since >= SETTLE_MICROS) { // the stop has taken effect: the writer stands still from here on
                    progressInStall[0] = 0;
                    for (int j = 1; j <= 2; j++) {
                        progressInStall[j] = run.control.progress(j);
                    }
                }
                return;
            }
            if (since < STALL_MICROS) {
                return;
            }
            long fewest = Long.MAX_VALUE;
            for (int j = 1; j <= 2; j++) {
                fewest = Math.min(fewest, run.control.progress(j) - progressInStall[j]);
            }
            if (fewest == 0) { // no 256 more reads yet: keep the writer stopped; a reader may just be descheduled
                if (since > STUCK_MILLIS * 1000) {
                    StringBuilder states = new StringBuilder();
                    for (StressRun.Kid kid : run.kids()) {
                        if (!kid.exited) {
                            states.append(' ').append(kid).append(" state ").append(state(kid.jvm.pid()));
                        }
                    }
                    run.anomaly("SeqRecord: a reader finished no read in " + since / 1000 + " ms while the writer was stopped (SIGSTOP)"
                        + " where it happened to be: readers wait for a writer, e.g. on a published slot not sealed yet (reads by 256 since the stop: "
                        + (run.control.progress(1) - progressInStall[1]) + ", " + (run.control.progress(2) - progressInStall[2]) + ";" + states + ")");
                    release();
                }
                return;
            }
            stalls++;
            release();
            nextStall = System.nanoTime() + RUN_BETWEEN_STALLS_MICROS * 1_000;
        }

        /** Lets a stopped writer go on (SIGCONT). */
        void release() {
            if (stalledAt != 0) {
                signal("CONT");
                stalledAt = 0;
            }
        }

        /** {@return the state letter of process {@code pid} (R running, S sleeping, T stopped, ...)} */
        private static String state(long pid) {
            try {
                String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
                return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
            } catch (java.io.IOException e) {
                return "gone";
            }
        }

        private void signal(String name) {
            signals.send(name, writer.jvm.pid());
        }
    }
}
