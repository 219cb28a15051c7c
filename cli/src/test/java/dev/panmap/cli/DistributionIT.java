package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.LinuxOnly;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution a user downloads, {@code target/panmap-cli-bin.tar.gz}, unpacked and run the way
 * its README says: {@code bin/panmap} with nothing but a JDK (JAVA_HOME, a bare PATH, an empty
 * HOME). An integration test (failsafe): it runs after {@code package} has built the archive.
 */
@LinuxOnly
class DistributionIT {
    @TempDir
    static Path dir;

    private static Path unpacked;
    private static Path home;
    private static Path tools;

    @BeforeAll
    static void unpack() throws Exception {
        Path archive = Path.of("target", "panmap-cli-bin.tar.gz").toAbsolutePath();
        assertThat(archive).exists();
        Result tar = run(List.of("tar", "-xzf", archive.toString(), "-C", dir.toString()), Map.of("PATH", "/usr/bin:/bin"));
        assertThat(tar.exit).as(tar.toString()).isZero();
        try (Stream<Path> top = Files.list(dir)) {
            unpacked = top.filter(p -> p.getFileName().toString().startsWith("panmap-cli-")).findFirst().orElseThrow();
        }
        home = Files.createDirectories(dir.resolve("home"));
        // a PATH with the few tools bin/panmap uses and no java (this machine has one in /usr/bin)
        tools = Files.createDirectories(dir.resolve("tools"));
        for (String tool : List.of("sh", "ls", "sed", "dirname", "readlink", "mkdir", "cksum", "cut", "tr")) {
            Path found = Stream.of("/usr/bin", "/bin").map(d -> Path.of(d, tool)).filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new AssertionError("no " + tool + " in /usr/bin or /bin"));
            Files.createSymbolicLink(tools.resolve(tool), found);
        }
    }

    record Result(int exit, String stdout, String stderr) {}

    private static Result run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s ended", command).isTrue();
        return new Result(p.exitValue(), out, err.join());
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Only a JDK: JAVA_HOME (this test's), a PATH of basic tools and no java, a HOME of its own. */
    private static Map<String, String> onlyAJdk() {
        Map<String, String> env = new HashMap<>();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("PATH", tools.toString());
        env.put("HOME", home.toString());
        return env;
    }

    private static Result panmap(Map<String, String> env, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(unpacked.resolve("bin/panmap").toString()));
        command.addAll(List.of(args));
        return run(command, env);
    }

    @Test
    void theLauncherRunsTheCommandLineWithOnlyAJdk() throws Exception {
        Result help = panmap(onlyAJdk(), "--help");
        assertThat(help.exit).as(help.toString()).isZero();
        assertThat(help.stdout).startsWith("Usage: panmap").contains("create", "inspect", "remove");
        assertThat(help.stderr).as("the first run makes the class-data archive, silently").isEmpty();

        try (Stream<Path> archives = Files.list(home.resolve(".cache/panmap"))) {
            assertThat(archives.map(p -> p.getFileName().toString())).as("the AppCDS archive, kept for the next run")
                .singleElement().asString().startsWith("panmap-cli-").endsWith(".jsa");
        }
        Result version = panmap(onlyAJdk(), "--version");
        assertThat(version.exit).as(version.toString()).isZero();
        assertThat(version.stdout).startsWith("panmap ").contains("platform: linux-" + (System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64"));
        assertThat(version.stderr).isEmpty();
    }

    @Test
    void aRegionCanBeCreatedInspectedAndRemovedThroughIt() throws Exception {
        String name = dev.panmap.testing.Names.unique("dist");
        Result created = panmap(onlyAJdk(), "create", name, "--size", "64K");
        try {
            assertThat(created.exit).as(created.toString()).isZero();
            assertThat(created.stderr).as("native access comes from the jar's manifest, without a warning").isEmpty();
            Result inspected = panmap(onlyAJdk(), "inspect", name, "--json");
            assertThat(inspected.exit).as(inspected.toString()).isZero();
            assertThat(inspected.stdout.strip()).startsWith("{").contains("\"name\":\"" + name + "\"");
        } finally {
            Result removed = panmap(onlyAJdk(), "remove", name);
            assertThat(removed.exit).as(removed.toString()).isZero();
        }
    }

    @Test
    void aSymlinkToTheLauncherWorksFromAnotherFolder() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("elsewhere/bin"));
        Path link = bin.resolve("panmap");
        if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createSymbolicLink(link, unpacked.resolve("bin/panmap"));
        }
        Result r = run(List.of(link.toString(), "--version"), onlyAJdk());
        assertThat(r.exit).as(r.toString()).isZero();
        assertThat(r.stdout).startsWith("panmap ");
    }

    @Test
    void anOldJavaIsRefusedWithTheReasonBeforeItRuns() throws Exception {
        Path old = Files.createDirectories(dir.resolve("jdk-17/bin"));
        Files.writeString(old.resolve("../release"), "JAVA_VERSION=\"17.0.9\"\n");
        Path java = old.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho 'this java ran' >&2\nexit 99\n");
        java.toFile().setExecutable(true);
        Map<String, String> env = onlyAJdk();
        env.put("JAVA_HOME", old.getParent().toString());
        Result r = panmap(env, "--version");
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.stderr).contains("panmap: needs Java 22 or newer;").contains("17.0.9").doesNotContain("this java ran");
    }

    @Test
    void withoutAnyJavaItSaysSo() throws Exception {
        Map<String, String> env = onlyAJdk();
        env.remove("JAVA_HOME");
        Result r = panmap(env, "--version");
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.stderr.strip()).isEqualTo("panmap: needs Java 22 or newer and found no java (JAVA_HOME=unset, none on PATH)");
    }

    @Test
    void noArchiveWhenTurnedOff() throws Exception {
        Path otherHome = Files.createDirectories(dir.resolve("home-no-cds"));
        Map<String, String> env = onlyAJdk();
        env.put("HOME", otherHome.toString());
        env.put("PANMAP_CDS", "0");
        Result r = panmap(env, "--version");
        assertThat(r.exit).as(r.toString()).isZero();
        assertThat(otherHome.resolve(".cache")).doesNotExist();
    }
}
