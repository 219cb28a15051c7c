package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The repository's {@code ./panmap} launcher and {@code cli/target/panmap-cli-*-all.jar} as a user
 * runs them: an integration test (failsafe), so it runs after {@code package} has built the shaded jar.
 */
@LinuxOnly
class LauncherIT {
    private static String run(String... args) throws IOException, InterruptedException {
        Path launcher = Path.of("..", "panmap").toAbsolutePath().normalize(); // this project is cli/
        assertThat(launcher).isExecutable();
        try (Stream<Path> jars = Files.list(Path.of("target"))) {
            assertThat(jars.map(p -> p.getFileName().toString())).as("the jar the launcher runs")
                .anyMatch(n -> n.startsWith("panmap-cli-") && n.endsWith("-all.jar"));
        }
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }

    @Test
    void theLauncherRunsTheJar() throws Exception {
        assertThat(run("--version")).startsWith("panmap ").contains("platform: linux-" + (System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64"));
    }

    @Test
    void theJarCreatesInspectsAndRemovesARegion() throws Exception {
        String name = Names.unique("launcher");
        assertThat(run("create", name, "--size", "64K")).startsWith("created " + name);
        try {
            assertThat(run("inspect", name, "--json")).contains("\"name\":\"" + name + "\"");
        } finally {
            run("remove", name);
        }
        assertThat(Files.exists(Path.of("/dev/shm" + name))).isFalse();
    }
}
