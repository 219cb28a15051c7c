package dev.panmap.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/requirements.sh}, run from a copy in a temporary tree (its target/ is the copy's): what
 * the CI workflows and {@code make test} rely on besides the package table itself.
 */
@LinuxOnly
class RequirementsScriptTest {
    @TempDir
    Path tree;

    /**
     * A CI runner calls {@code sudo bash scripts/requirements.sh install} and then builds as itself: a
     * target/ left to root would stop Maven writing there. The script hands target/ and its records back
     * to the sudo caller (here uid and gid 65534, nobody).
     */
    @Test
    void installUnderSudoLeavesTargetToTheCaller() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root, as sudo gives (chown to another user)");
        Path script = copy();
        String out = run(script, Map.of("SUDO_UID", "65534", "SUDO_GID", "65534", "PANMAP_NO_INSTALL", "1"), "install");
        for (Path p : List.of(tree.resolve("target"), tree.resolve("target/requirements-missing"), tree.resolve("target/requirements-not-here"))) {
            assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).as(p + " after:\n" + out).isEqualTo(65534);
            assertThat(Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).as(p.toString()).isEqualTo(65534);
        }
    }

    /**
     * The groups this architecture cannot use are left out with their reason, never counted missing: on
     * aarch64 the Wine harness and the aarch64 cross compiler, on x86_64 none. {@code run} skips a command
     * needing such a group, saying why, and exits 0.
     */
    @Test
    void groupsThisArchitectureCannotUseAreSaidNotHereAndTheirCommandsSkipped() throws Exception {
        Path script = copy();
        String arch = System.getProperty("os.arch").equals("amd64") ? "x86_64" : System.getProperty("os.arch");
        String list = run(script, Map.of(), "list");
        String wine = list.lines().filter(l -> l.startsWith("wine ")).findFirst().orElseThrow();
        String cross = list.lines().filter(l -> l.startsWith("aarch64-cc ")).findFirst().orElseThrow();
        String harness = run(script, Map.of(), "run", "mingw", "wine", "--", "sh", "-c", "echo harness ran");
        if (arch.equals("x86_64")) {
            assertThat(wine).contains("wine64").doesNotContain("not on");
            assertThat(cross).contains("gcc-aarch64-linux-gnu").doesNotContain("not on");
        } else {
            assertThat(wine).contains("(not on " + arch + ")", "x86_64 Windows executables");
            assertThat(harness).startsWith("requirements: SKIPPED sh -c echo harness ran (not on " + arch + ": wine: ")
                .doesNotContain("harness ran\n");
            if (arch.equals("aarch64")) {
                assertThat(cross).contains("(not on aarch64)", "its own C compiler");
            }
            String install = run(script, Map.of("PANMAP_NO_INSTALL", "1"), "install");
            assertThat(install).contains("requirements: NOT ON " + arch + " wine: skipped: ").doesNotContain("MISSING wine");
            List<String> missing = Files.readAllLines(tree.resolve("target/requirements-missing"));
            assertThat(missing).doesNotContain("wine");
            // with nothing else missing, a group not here does not fail a CI=true report (run() checks the exit)
            assertThat(run(script, missing.isEmpty() ? Map.of("CI", "true") : Map.of(), "report")).contains("NOT ON " + arch + " wine: skipped: ");
        }
    }

    private Path copy() throws IOException {
        Path scripts = Files.createDirectories(tree.resolve("scripts"));
        for (String f : List.of("requirements.sh", "find-jdk", "SkippedTests.java")) {
            Files.copy(Path.of("scripts", f), scripts.resolve(f));
        }
        return scripts.resolve("requirements.sh");
    }

    private static String run(Path script, Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", script.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(command + " finished").isTrue();
        assertThat(p.exitValue()).as(command + ":\n" + out).isZero();
        return out;
    }
}
