package dev.panmap.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.ProcessInfo;
import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The fault suite: writers, readers and attaching processes killed with SIGKILL at random points —
 * during writes, during growth, during attach — over many rounds, with checks after each kill:
 * <ul>
 *   <li>no published write is lost: the record's version is at least the last one the killed writer
 *       printed as published, and its payload is whole;</li>
 *   <li>no torn value is ever read and no version goes back: two reader processes check every copy
 *       they read, the whole time;</li>
 *   <li>no reader hangs: each reports progress, and answers at the end;</li>
 *   <li>the lock is taken again at once after each kill: the time from the killed writer's death
 *       (its reaping) to this process holding the lock is measured;</li>
 *   <li>the attach table never fills with the dead: it has only {@value #SLOTS} slots, far fewer than
 *       the processes killed while attached, and every new process still attaches.</li>
 * </ul>
 * {@code panmap.faults.rounds} rounds per addressing mode (default 150: 300 in all, about 1.5 minutes
 * on this 2-core machine when it is otherwise idle, longer when it is not: the rounds are fixed, not
 * the time), with a safety cap of {@code panmap.faults.seconds} (default 600 x {@code PANMAP_TIMEOUT_FACTOR}:
 * under QEMU, 600 s cut DIRECT at 107 of 150 rounds) per mode. The seed is
 * printed ({@code panmap.faults.seed} replays one). Prints its figures at the end.
 */
@LinuxOnly
class FaultSuiteTest {
    private static final int SLOTS = 8;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void killedWritersReadersAndAttachersLoseNothingTearNothingAndLeaveNoDeadBehind(Addressing addressing) throws Exception {
        long seconds = Long.getLong("panmap.faults.seconds", ChildJvm.scaled(Duration.ofSeconds(600)).toSeconds());
        int maxRounds = Integer.getInteger("panmap.faults.rounds", 150);
        long seed = Long.getLong("panmap.faults.seed", System.nanoTime());
        Random random = new Random(seed);
        String name = Names.unique("faults-" + addressing);
        RegionOptions options = RegionOptions.defaults().size(64 * 1024).maxSize(32L << 20).maxAttached(SLOTS).addressing(addressing);
        try (SharedRegion region = SharedRegion.create(name, options); Arena arena = Arena.ofConfined()) {
            SeqRecord record = SeqRecord.format(region, 0, FaultChild.WORDS * 8);
            MemorySegment copy = arena.allocate(record.payloadSize(), 8);
            List<ChildJvm> readers = new ArrayList<>();
            List<ChildJvm> standby = new ArrayList<>(); // writers started ahead, so a round does not wait for a JVM to start
            Figures f = new Figures();
            try {
                for (int i = 0; i < 2; i++) {
                    readers.add(startReady("reader", name));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                while (f.rounds < maxRounds && System.nanoTime() - deadline < 0) {
                    f.rounds++;
                    int what = random.nextInt(10);
                    if (what < 6) {
                        while (standby.size() < 2) {
                            standby.add(ChildJvm.start(FaultChild.class, "writer", name, "standby"));
                        }
                        killWriter(region, record, copy, name, random, f, standby.removeFirst());
                    } else if (what < 8) {
                        killAttacher(name, random, f);
                    } else {
                        int which = random.nextInt(readers.size());
                        ChildJvm victim = readers.get(which);
                        victim.kill();
                        victim.process().waitFor(30, TimeUnit.SECONDS);
                        f.readerKills++;
                        f.readsChecked += lastProgress(victim);
                        readers.set(which, startReady("reader", name));
                    }
                    // the dead never fill the table: alive entries are only this process, the readers and the writers waiting
                    long alive = region.attachedProcesses().stream().filter(ProcessInfo::alive).count();
                    assertThat(alive).as("round %d (seed %d): live attach entries", f.rounds, seed)
                        .isLessThanOrEqualTo(1 + readers.size() + standby.size());
                }
                for (ChildJvm reader : readers) {
                    reader.send("stop");
                    String[] result = reader.awaitPrefix("RESULT ", WAIT).trim().split(" ");
                    f.readsChecked += Long.parseLong(result[0]);
                    f.anomalies += Long.parseLong(result[1]);
                }
            } finally {
                readers.forEach(ChildJvm::close);
                standby.forEach(ChildJvm::close);
            }
            f.finalSize = region.segment().byteSize();
            System.out.println(f.report(addressing, seed, region.generation()));
            assertThat(f.anomalies).as("anomalies (seed %d)", seed).isZero();
            assertThat(f.rounds).as("rounds (seed %d): the safety cap cut the run short", seed).isEqualTo(maxRounds);
            assertThat(f.writerKills).as("writers killed (seed %d)", seed).isGreaterThanOrEqualTo(maxRounds / 3);
            assertThat(f.relockNanos.length == 0 ? 0 : max(f)).as("the longest relock, ns").isLessThan(TimeUnit.SECONDS.toNanos(1));
        } finally {
            SharedRegion.remove(name);
        }
    }

    /**
     * Lets a writer run a random while and kills it, then checks. Most rounds use a writer started
     * ahead and waiting, attached; one in five starts a fresh one and kills it within 300 ms, often
     * before or during its attach.
     */
    private static void killWriter(SharedRegion region, SeqRecord record, MemorySegment copy, String name, Random random, Figures f,
                                   ChildJvm ready) throws Exception {
        long lastPublished = 0;
        boolean fresh = random.nextInt(5) == 0;
        try (ChildJvm writer = fresh ? ChildJvm.start(FaultChild.class, "writer", name) : ready) {
            if (fresh) {
                ready.close(); // not used this round
                Thread.sleep(random.nextInt(300)); // mid-start, or mid-attach
            } else {
                writer.awaitPrefix("READY", WAIT);
                writer.send("go");
                Thread.sleep(random.nextInt(40));
            }
            writer.kill();
            writer.process().waitFor(30, TimeUnit.SECONDS);
            long died = System.nanoTime();
            // the lock is free at once: the kernel dropped it with the process
            while (!region.writerLock().tryLock()) {
                assertThat(System.nanoTime() - died).as("the writer lock was not released by the kill").isLessThan(TimeUnit.SECONDS.toNanos(5));
                Thread.onSpinWait();
            }
            f.relock(System.nanoTime() - died);
            try {
                for (String line : writer.stdoutAfterExit(Duration.ofSeconds(5))) {
                    if (line.startsWith("PUB ")) {
                        lastPublished = Long.parseLong(line.substring(4).trim());
                    } else if (line.startsWith("GREW ")) {
                        f.grows++;
                    }
                }
                long v = record.read(copy);
                assertThat(v).as("the record's version after a kill: no published write lost").isGreaterThanOrEqualTo(lastPublished);
                if (v > 0) {
                    assertThat(copy.getAtIndex(ValueLayout.JAVA_LONG, FaultChild.WORDS - 1)).as("version %d whole", v)
                        .isEqualTo(FaultChild.checksum(v));
                }
                region.segment(); // the region as the writer left it, growth included, maps and reads
            } finally {
                region.writerLock().unlock();
            }
            f.writerKills++;
            if (lastPublished == 0) {
                f.earlyKills++;
            }
        }
    }

    private static void killAttacher(String name, Random random, Figures f) throws Exception {
        try (ChildJvm attacher = ChildJvm.start(FaultChild.class, "attacher", name)) {
            Thread.sleep(150 + random.nextInt(250));
            attacher.kill();
            attacher.process().waitFor(30, TimeUnit.SECONDS);
            f.attacherKills++;
        }
    }

    private static ChildJvm startReady(String role, String name) {
        ChildJvm child = ChildJvm.start(FaultChild.class, role, name);
        child.awaitPrefix("READY", WAIT);
        return child;
    }

    /** {@return the reads a killed reader last reported} (its count until the kill; anomalies are printed the moment they happen) */
    private static long lastProgress(ChildJvm reader) {
        long reads = 0;
        for (String line : reader.stdoutAfterExit(Duration.ofSeconds(5))) {
            assertThat(line).as("a reader's report").doesNotStartWith("ANOMALY");
            if (line.startsWith("PROGRESS ")) {
                reads = Long.parseLong(line.split(" ")[1]);
            }
        }
        return reads;
    }

    private static long max(Figures f) {
        return Arrays.stream(f.relockNanos, 0, f.relocks).max().orElse(0);
    }

    /** What the suite counts and prints. */
    private static final class Figures {
        int rounds;
        int writerKills;
        int earlyKills;
        int readerKills;
        int attacherKills;
        int grows;
        long readsChecked;
        long anomalies;
        long finalSize;
        long[] relockNanos = new long[1024];
        int relocks;

        void relock(long nanos) {
            if (relocks == relockNanos.length) {
                relockNanos = Arrays.copyOf(relockNanos, relocks * 2);
            }
            relockNanos[relocks++] = nanos;
        }

        String report(Addressing addressing, long seed, long generation) {
            long[] sorted = Arrays.copyOf(relockNanos, relocks);
            Arrays.sort(sorted);
            long p50 = sorted.length == 0 ? 0 : sorted[sorted.length / 2];
            long max = sorted.length == 0 ? 0 : sorted[sorted.length - 1];
            return String.format("fault suite %s (seed %d): %d rounds; killed %d writers (%d before their first write), %d readers,"
                    + " %d attachers; %d grows seen (generation %d, %d KiB of data); %d reads checked; anomalies %d;"
                    + " relock after a kill p50 %.1f us, max %.1f us", addressing, seed, rounds, writerKills, earlyKills, readerKills,
                attacherKills, grows, generation, finalSize / 1024, readsChecked, anomalies, p50 / 1e3, max / 1e3);
        }
    }
}
