package dev.panmap.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.SharedRegion;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordination examples, run as the separate processes they are written for. */
@LinuxOnly
class ExamplesTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aMonitorWatchesAStatusWriterLive() {
        String name = Names.unique("status");
        try (ChildJvm writer = ChildJvm.start(StatusWriter.class, name, "20", "50")) {
            writer.awaitPrefix("wrote ", WAIT); // the region and its record exist now
            try (ChildJvm monitor = ChildJvm.start(StatusMonitor.class, name)) {
                String last = monitor.awaitLine(l -> l.contains("state=stopping"), WAIT);
                assertThat(last).contains("requests=2000").contains("errors=6");
                assertThat(monitor.awaitExit(WAIT)).isZero();
            }
            assertThat(writer.awaitExit(WAIT)).isZero();
        } finally {
            SharedRegion.remove(name);
        }
    }

    @Test
    void aConfigurationSurvivesEveryProcess() {
        Path file = dir.resolve("app.config.region");
        run(file, "set", "threads", "8");
        run(file, "set", "mode", "fast");
        try (ChildJvm reader = ChildJvm.start(PersistentConfig.class, file.toString(), "get", "threads")) {
            assertThat(reader.awaitLine(l -> l.startsWith("threads="), WAIT)).isEqualTo("threads=8");
        }
        try (ChildJvm reader = ChildJvm.start(PersistentConfig.class, file.toString(), "get", "mode")) {
            assertThat(reader.awaitLine(l -> l.startsWith("mode="), WAIT)).isEqualTo("mode=fast");
        }
    }

    private static void run(Path file, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = file.toString();
        System.arraycopy(args, 0, all, 1, args.length);
        try (ChildJvm child = ChildJvm.start(PersistentConfig.class, all)) {
            child.awaitPrefix("set ", WAIT);
            assertThat(child.awaitExit(WAIT)).isZero();
        }
    }
}
