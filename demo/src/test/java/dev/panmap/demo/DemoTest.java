package dev.panmap.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@code make demo} end to end, as a real process: every step passes its own checks, and nothing is left behind. */
@LinuxOnly
class DemoTest {
    @Test
    void theDemoRunsItsStepsAndCleansUp() throws Exception {
        List<String> out;
        long pid;
        try (ChildJvm demo = ChildJvm.start(Demo.class)) {
            pid = demo.pid();
            out = demo.stdoutAfterExit(Duration.ofSeconds(120));
            assertThat(demo.process().exitValue()).as("stdout: " + out + "\nstderr: " + demo.stderr()).isZero();
            assertThat(demo.stderr()).isEmpty();
        }
        List<String> steps = out.stream().filter(l -> l.matches(" ?\\d+\\. .*")).toList();
        assertThat(steps).as("numbered 1, 2, 3, ... in order").extracting(l -> Integer.parseInt(l.strip().split("\\.")[0]))
            .containsExactlyElementsOf(IntStream.rangeClosed(1, steps.size()).boxed().toList());
        assertThat(String.join("\n", out))
            .contains("DIRECT region at 0x").contains("in all three processes")
            .contains("reader prints: update 5 from the writer")
            .contains("killed with SIGKILL while holding the lock (exit status 137)")
            .contains("now dead: a stale record").contains("stale recoveries 1")
            .contains("the data is intact").contains("reader prints: update 6 from the primary, after the crash")
            .containsPattern("DIRECT \\d+\\.\\d ns/node, OFFSET \\d+\\.\\d ns/node").contains("make bench")
            .contains("cleaned up");
        assertThat(out.getLast()).startsWith("done in ");
        try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
            assertThat(shm.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("panmap-demo-" + pid + "-"));
        }
    }
}
