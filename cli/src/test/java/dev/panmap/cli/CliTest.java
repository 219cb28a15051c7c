package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** create, inspect, list and remove, and the command line's errors, each run as a real process. */
@LinuxOnly
class CliTest {
    /** The keys the issue asks {@code inspect --json} for. */
    static final List<String> INSPECT_KEYS = List.of("name", "backing", "size", "dataOffset", "addressing", "baseAddress",
        "mode", "layoutVersion", "creatorPid", "lockHolder", "attached", "generation", "reservedSpan");

    @RegisterExtension
    final RegionNames names = new RegionNames();

    @TempDir
    Path dir;

    private String name(String stem) {
        return names.next(stem);
    }

    static Cli.Result ok(String... args) {
        Cli.Result r = Cli.run(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stderr()).as(r.toString()).isEmpty();
        return r;
    }

    /** Fails with exit {@code code} and exactly one line on stderr, which is returned. */
    static String fails(int code, String... args) {
        Cli.Result r = Cli.run(args);
        assertThat(r.exit()).as(r.toString()).isEqualTo(code);
        assertThat(r.stderrLines()).as(r.toString()).hasSize(1);
        assertThat(r.stderr()).as("no stack trace without --verbose").doesNotContain("\tat ");
        return r.stderrLines().getFirst();
    }

    /** {@return a parsed JSON value that must be an object} */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object value) {
        assertThat(value).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    static Map<String, Object> inspectJson(String... target) {
        List<String> args = new ArrayList<>(List.of("inspect", "--json"));
        args.addAll(List.of(target));
        Cli.Result r = ok(args.toArray(String[]::new));
        assertThat(r.stdoutLines()).as("one line of JSON").hasSize(1);
        return JsonParser.parseObject(r.stdout().strip());
    }

    @Test
    void createInspectListRemove() {
        String name = name("cli");
        Cli.Result created = ok("create", name, "--size", "64K", "--mode", "0640", "--max-attach", "8");
        assertThat(created.stdout()).startsWith("created " + name + ": 64K of data at offset 4096, OFFSET, mode 0640, 8 attach slots");

        Cli.Result text = ok("inspect", name);
        assertThat(text.stdout()).contains("region       " + name + " (POSIX shared memory")
            .contains("layout       version " + dev.panmap.internal.RegionLayout.LAYOUT_VERSION + "; header 4096 bytes").contains("size         64K of data (65536 bytes)")
            .contains("addressing   OFFSET").contains("mode         0640").contains("writer lock  free")
            .contains("attached     0 alive, 8 slots");

        Map<String, Object> json = inspectJson(name);
        assertThat(json).containsKeys(INSPECT_KEYS.toArray(String[]::new));
        assertThat(json).containsEntry("name", name).containsEntry("backing", "SHARED_MEMORY").containsEntry("size", 65536L)
            .containsEntry("dataOffset", 4096L).containsEntry("addressing", "OFFSET").containsEntry("baseAddress", null)
            .containsEntry("mode", "0640").containsEntry("layoutVersion", (long) dev.panmap.internal.RegionLayout.LAYOUT_VERSION).containsEntry("lockHolder", null)
            .containsEntry("attached", List.of()).containsEntry("maxAttached", 8L);
        assertThat((Long) json.get("creatorPid")).as("the creating CLI process").isPositive();

        Cli.Result list = ok("list");
        String row = list.stdoutLines().stream().filter(l -> l.startsWith(name + " ")).findFirst().orElseThrow(() -> new AssertionError(list));
        assertThat(row.split("\\s+")).containsExactly(name, "64K", "0640", System.getProperty("user.name"), "OFFSET", "0", "free");
        assertThat(list.stdoutLines().getFirst()).startsWith("NAME ").contains("SIZE", "MODE", "ADDRESSING", "ATTACHED", "LOCK");

        Object listed = JsonParser.parse(ok("list", "--json").stdout());
        assertThat(listed).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
            .anySatisfy(e -> assertThat(object(e)).containsEntry("name", name).containsEntry("panmap", true).containsEntry("size", 65536L));

        assertThat(ok("remove", name).stdout()).isEqualTo("removed " + name + "\n");
        assertThat(fails(1, "inspect", name)).isEqualTo("NOT_FOUND: shm_open(\"" + name + "\", O_RDONLY|O_NONBLOCK|O_CLOEXEC, 0000) failed: ENOENT (No such file or directory)");
        assertThat(fails(1, "remove", name)).startsWith("NOT_FOUND: shm_unlink(\"" + name + "\") failed: ENOENT");
        assertThat(ok("list").stdout()).doesNotContain(name + " ");
    }

    @Test
    void directRegionWithItsBase() {
        String name = name("cli-direct");
        Cli.Result created = ok("create", name, "--size", "1M", "--direct", "--base", "0x6200_0000_0000");
        assertThat(created.stdout()).contains("DIRECT at base 0x620000000000");

        Map<String, Object> json = inspectJson(name);
        assertThat(json).containsEntry("addressing", "DIRECT").containsEntry("baseAddress", "0x620000000000")
            .containsEntry("size", 1048576L).containsEntry("mode", "0600");
        assertThat(ok("inspect", name).stdout()).contains("addressing   DIRECT at base 0x620000000000");
        assertThat(ok("list").stdout()).containsPattern("(?m)^" + name + " +1M +0600 +\\S+ +DIRECT 0x620000000000 +0 +free$");
    }

    @Test
    void growAndInspectShowTheSizeGenerationAndReservedSpan() {
        String name = name("cli-grow");
        assertThat(ok("create", name, "--size", "64K", "--max-size", "1M").stdout()).contains("may grow to 1M");
        assertThat(ok("inspect", name).stdout()).contains("generation 1 (never grown)").contains("growth       may grow to 1M of data");
        assertThat(ok("grow", name, "--size", "256K").stdout()).isEqualTo("grew " + name + " from 64K to 256K of data, generation 2; it may grow to 1M\n");
        assertThat(inspectJson(name)).containsEntry("size", 262144L).containsEntry("generation", 2L).containsEntry("reservedSpan", 4096L + 1048576L);
        assertThat(fails(1, "grow", name, "--size", "2M")).startsWith("LIMIT_REACHED: " + name + " cannot grow to 2097152 data bytes");
        assertThat(fails(2, "grow", name, "--size", "4K")).contains("shrinking is not offered");
        try (dev.panmap.SharedRegion holder = dev.panmap.SharedRegion.open(name); var held = holder.writerLock().hold()) {
            long start = System.nanoTime();
            assertThat(fails(1, "grow", name, "--size", "512K", "--wait", "0.3"))
                .startsWith("WOULD_BLOCK: the writer lock of " + name + " is held by pid " + ProcessHandle.current().pid()
                    + "; gave up after 0.3 s (--wait)");
            assertThat(System.nanoTime() - start).as("it gave up, it did not wait for the holder").isLessThan(20_000_000_000L);
        }
        assertThat(ok("grow", name, "--size", "512K", "--wait", "0").stdout()).startsWith("grew " + name + " from 256K to 512K");
        String fixed = name("cli-fixed");
        ok("create", fixed, "--size", "64K");
        assertThat(ok("inspect", fixed).stdout()).contains("cannot grow (created without RegionOptions.maxSize)");
    }

    @Test
    void regionInAFile() {
        Path file = dir.resolve("region.pm");
        assertThat(ok("create", "--file", file.toString(), "--size", "8K").stdout()).startsWith("created " + file + ": 8K");
        Map<String, Object> json = inspectJson("--file", file.toString());
        assertThat(json).containsEntry("name", file.toString()).containsEntry("backing", "FILE").containsEntry("size", 8192L);
        assertThat(ok("remove", "--file", file.toString()).stdout()).startsWith("removed " + file);
        assertThat(file).doesNotExist();
    }

    @Test
    void listSkipsObjectsThatAreNotPanmapRegions() {
        String raw = name("cli-raw");
        String region = name("cli-listed");
        try (SharedRegion r = SharedRegion.openRaw(raw, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(4096))) {
            r.segment().fill((byte) 'z'); // not a panmap header
            ok("create", region, "--size", "4K");

            Cli.Result list = ok("list");
            assertThat(list.stdout()).contains(region + " ").doesNotContain(raw + " ").containsPattern("\\d+ other objects? in /dev/shm");

            Cli.Result all = ok("list", "--all");
            assertThat(all.stdoutLines()).anySatisfy(l -> assertThat(l).startsWith(raw + " ").contains("not a panmap region"));
            assertThat(all.stdoutLines()).anySatisfy(l -> assertThat(l).startsWith(region + " ").contains("OFFSET"));

            assertThat(fails(1, "inspect", raw)).startsWith("INCOMPATIBLE_REGION: " + raw + " is not a panmap region");
        }
    }

    @Test
    void creatingAnExistingRegionFails() {
        String name = name("cli-exists");
        ok("create", name, "--size", "4K");
        assertThat(fails(1, "create", name, "--size", "4K"))
            .isEqualTo("ALREADY_EXISTS: shm_open(\"" + name + "\", O_RDWR|O_CREAT|O_EXCL|O_NONBLOCK|O_CLOEXEC, 0600) failed: EEXIST (File exists)");
    }

    @Test
    void badUsageExitsWith2AndOneLine() {
        String name = name("cli-usage");
        assertThat(fails(2, "create", name)).isEqualTo("panmap create: Missing required option: '--size=SIZE' (see 'panmap create --help')");
        assertThat(fails(2, "create", name, "--size", "12Q")).contains("--size").contains("not a size: \"12Q\"");
        assertThat(fails(2, "create", name, "--size", "4K", "--mode", "999")).contains("not an octal mode: \"999\"");
        assertThat(fails(2, "create", name, "--size", "4K", "--base", "0x700000000000")).contains("--base needs --direct");
        assertThat(fails(2, "inspect")).contains("give a region NAME or --file PATH");
        assertThat(fails(2, "inspect", name, "--file", "/tmp/x")).contains("give only one of");
        assertThat(fails(2, "inspect", "a/b")).contains("invalid region name \"a/b\"");
        assertThat(fails(2, "watch", name, "--interval", "0")).contains("--interval must be at least 1 ms");
        assertThat(fails(2, "frobnicate")).startsWith("panmap: ").contains("frobnicate");
        assertThat(fails(2, "put", name)).contains("give the TEXT to write");
        assertThat(Files.exists(Path.of("/dev/shm", name.substring(1)))).as("no usage error created anything").isFalse();

        Cli.Result bare = Cli.run();
        assertThat(bare.exit()).isEqualTo(2);
        assertThat(bare.stderr()).contains("Usage: panmap").endsWith("panmap: give a command (see 'panmap --help')\n");
    }

    @Test
    void helpAndVersion() {
        Cli.Result help = ok("--help");
        assertThat(help.stdout()).contains("create", "inspect", "list", "watch", "put", "lock", "remove", "Exit codes: 0 success, 1");
        for (String command : List.of("create", "inspect", "list", "watch", "put", "lock", "remove")) {
            assertThat(ok(command, "--help").stdout()).as(command).startsWith("Usage: panmap " + command);
        }
        assertThat(ok("--version").stdoutLines()).satisfiesExactly(
            l -> assertThat(l).startsWith("panmap ").contains(" on Java "),
            l -> assertThat(l).isEqualTo("platform: linux-" + (System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64")));
    }

    @Test
    void verbosePrintsTheStackTraceBeforeTheLine() {
        String name = name("cli-verbose");
        for (String[] args : List.of(new String[] {"--verbose", "inspect", name}, new String[] {"inspect", name, "--verbose"})) {
            Cli.Result r = Cli.run(args);
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.stderr()).as(r.toString()).startsWith("dev.panmap.NativeException: shm_open(").contains("\tat dev.panmap.");
            assertThat(r.stderrLines().getLast()).startsWith("NOT_FOUND: shm_open(\"" + name + "\"");
        }
    }
}
