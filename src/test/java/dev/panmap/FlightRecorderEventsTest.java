package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.internal.Events;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.NoFlightRecorderChild;
import dev.panmap.testing.RegionChild;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each Flight Recorder event panmap emits ({@code dev.panmap.internal.Events}) is recorded at the
 * moment it stands for, with the region's name: a stale lock recovered (from a child JVM killed
 * holding the lock), an offset fallback, a huge-page fallback, a grow, a refused open; the ring's
 * skipped claim through its emitter. And {@code jfr print --events 'dev.panmap.*'}, as the README
 * shows it, prints them.
 */
@LinuxOnly
class FlightRecorderEventsTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** A recording of the {@code dev.panmap} events around {@code action}, dumped to a file. */
    private Path record(String file, ThrowingRunnable action) throws Exception {
        Path out = dir.resolve(file);
        try (Recording recording = new Recording()) {
            for (String event : List.of("StaleLockRecovered", "OffsetFallback", "HugePageFallback", "RegionGrown", "OpenRefused",
                "RingClaimSkipped")) {
                recording.enable("dev.panmap." + event);
            }
            recording.start();
            action.run();
            recording.stop();
            recording.dump(out);
        }
        return out;
    }

    /** The events of one type for one region in a recording. */
    private static List<RecordedEvent> events(Path recording, String type, String region) throws IOException {
        return RecordingFile.readAllEvents(recording).stream()
            .filter(e -> e.getEventType().getName().equals("dev.panmap." + type))
            .filter(e -> region.equals(e.getString("region")))
            .toList();
    }

    @Test
    void theFlightRecorderIsThere() {
        assertThat(Events.available()).as("jdk.jfr is in this JDK and readable").isTrue();
    }

    @Test
    void aStaleLockRecoveredNamesTheRegionAndTheDeadHolder() throws Exception {
        String name = Names.unique("jfr-stale");
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(4096))) {
            int childPid;
            try (ChildJvm child = ChildJvm.start(RegionChild.class)) {
                child.awaitPrefix("READY", WAIT);
                child.send("open shm " + name + " OPEN_ONLY");
                child.awaitPrefix("OPENED ", WAIT);
                child.send("lock");
                child.awaitPrefix("LOCKED", WAIT);
                childPid = (int) child.pid();
                child.kill(); // SIGKILL while holding the lock
            }
            Path recording = record("stale.jfr", () -> {
                assertThat(region.writerLock().tryLock(WAIT)).isTrue();
                region.writerLock().unlock();
            });
            List<RecordedEvent> events = events(recording, "StaleLockRecovered", region.name());
            assertThat(events).hasSize(1);
            assertThat(events.get(0).getInt("deadHolderPid")).isEqualTo(childPid);
            assertThat(events.get(0).getLong("deadHolderStartTime")).isPositive();
            // a clean release leaves nothing to recover: no second event
            Path again = record("clean.jfr", () -> {
                region.writerLock().lock();
                region.writerLock().unlock();
            });
            assertThat(events(again, "StaleLockRecovered", region.name())).isEmpty();
        } finally {
            SharedRegion.remove(name);
        }
    }

    @Test
    void anOffsetFallbackNamesTheRecordedBaseAndWhereItWasMapped() throws Exception {
        String name = Names.unique("jfr-fallback");
        try (SharedRegion first = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16).addressing(Addressing.DIRECT))) {
            SharedRegion[] second = new SharedRegion[1];
            Path recording = record("fallback.jfr", () -> second[0] = SharedRegion.open(name, OpenMode.OPEN_ONLY,
                RegionOptions.defaults().allowOffsetFallback(true)));
            try (SharedRegion fallback = second[0]) {
                assertThat(fallback.isOffsetFallback()).as("the base is taken by the first mapping in this process").isTrue();
                List<RecordedEvent> events = events(recording, "OffsetFallback", first.name());
                assertThat(events).hasSize(1);
                assertThat(events.get(0).getLong("recordedBase")).isEqualTo(first.baseAddress());
                assertThat(events.get(0).getLong("mappedAt")).isEqualTo(fallback.baseAddress()).isNotEqualTo(first.baseAddress());
            }
        } finally {
            SharedRegion.remove(name);
        }
    }

    @Test
    void aHugePageFallbackSaysWhy() throws Exception {
        String name = Names.unique("jfr-huge");
        SharedRegion[] created = new SharedRegion[1];
        try {
            Path recording = record("huge.jfr", () -> created[0] = SharedRegion.create(name,
                RegionOptions.defaults().size(4 << 20).hugePages(HugePages.PREFERRED)));
            try (SharedRegion r = created[0]) {
                Assumptions.assumeTrue(r.pageFallback().isPresent(),
                    "named shared memory had huge pages here (/dev/shm mounted with huge=): no fallback to record");
                List<RecordedEvent> events = events(recording, "HugePageFallback", r.name());
                assertThat(events).hasSize(1);
                assertThat(events.get(0).getString("reason")).isEqualTo(r.pageFallback().get());
                assertThat(events.get(0).getLong("requestedPageSize")).isEqualTo(RegionOptions.DEFAULT_HUGE_PAGE_SIZE);
            }
        } finally {
            SharedRegion.remove(name);
        }
    }

    @Test
    void aGrowRecordsBothSizesTheGenerationAndItsDuration() throws Exception {
        String name = Names.unique("jfr-grow");
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16).maxSize(1 << 22))) {
            Path recording = record("grow.jfr", () -> {
                r.grow(1 << 20);
                r.grow(1 << 20); // the same size: nothing grows, nothing is recorded
            });
            List<RecordedEvent> events = events(recording, "RegionGrown", r.name());
            assertThat(events).hasSize(1);
            RecordedEvent e = events.get(0);
            assertThat(e.getLong("oldSize")).isEqualTo(1 << 16);
            assertThat(e.getLong("newSize")).isEqualTo(1 << 20).isEqualTo(r.size());
            assertThat(e.getLong("generation")).isEqualTo(r.generation()).isEqualTo(2);
            assertThat(e.getDuration()).isPositive();
        } finally {
            SharedRegion.remove(name);
        }
    }

    @Test
    void aRefusedOpenRecordsTheModeTheKindAndTheMessage() throws Exception {
        String name = Names.unique("jfr-refused");
        String[] message = new String[1];
        Path recording = record("refused.jfr", () -> assertThatThrownBy(() -> SharedRegion.open(name))
            .isInstanceOfSatisfying(RegionException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                message[0] = e.getMessage();
            }));
        List<RecordedEvent> events = events(recording, "OpenRefused", SharedRegion.canonicalName(name));
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getString("openMode")).isEqualTo("OPEN_ONLY");
        assertThat(events.get(0).getString("kind")).isEqualTo("NOT_FOUND");
        assertThat(events.get(0).getString("message")).isEqualTo(message[0]);
        assertThat(events.get(0).getStackTrace()).as("where the open was called from").isNotNull();
    }

    @Test
    void aSkippedRingClaimIsRecordedThroughItsEmitter() throws Exception {
        Path recording = record("ring.jfr", () -> Events.ringClaimSkipped("/jfr-ring", 4096, 65536, 24, 4242));
        List<RecordedEvent> events = events(recording, "RingClaimSkipped", "/jfr-ring");
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getLong("ringOffset")).isEqualTo(4096);
        assertThat(events.get(0).getLong("position")).isEqualTo(65536);
        assertThat(events.get(0).getLong("bytes")).isEqualTo(24);
        assertThat(events.get(0).getInt("producerPid")).isEqualTo(4242);
    }

    /** {@code jfr print --events 'dev.panmap.*' FILE}, as the README shows it, prints panmap's events. */
    @Test
    void jfrPrintShowsThem() throws Exception {
        String name = Names.unique("jfr-print");
        Path recording;
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16).maxSize(1 << 20))) {
            recording = record("print.jfr", () -> r.grow(1 << 20));
        } finally {
            SharedRegion.remove(name);
        }
        Path jfr = ChildJvm.javaBinary().resolveSibling("jfr");
        Process p = new ProcessBuilder(jfr.toString(), "print", "--events", "dev.panmap.*", recording.toString())
            .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("dev.panmap.RegionGrown {").contains("region = \"" + SharedRegion.canonicalName(name) + "\"")
            .contains("newSize = 1.0 MB");
    }

    /**
     * Without {@code jdk.jfr} in the module graph (a jlink image without it, or a module application
     * that does not resolve it), the paths that emit events work as ever, panmap as a named module.
     */
    @Test
    void withoutTheFlightRecorderModuleNothingBreaks() throws Exception {
        Path classes = Path.of("target/classes").toAbsolutePath();
        String testClasses = Path.of("target/test-classes").toAbsolutePath().toString();
        Process p = new ProcessBuilder(ChildJvm.javaBinary().toString(), "--module-path", classes.toString(),
            "--add-modules", "dev.panmap", "--limit-modules", "java.base,dev.panmap", "--enable-native-access=dev.panmap",
            "-cp", testClasses, NoFlightRecorderChild.class.getName(), Names.unique("jfr-absent"))
            .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("jdk.jfr absent; panmap in module dev.panmap", "refused: NOT_FOUND", "grown to 65536")
            .endsWith("OK\n");
        assertThat(p.exitValue()).as(out).isZero();
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
