package dev.panmap.cli;

import static dev.panmap.cli.CliTest.fails;
import static dev.panmap.cli.CliTest.inspectJson;
import static dev.panmap.cli.CliTest.object;
import static dev.panmap.cli.CliTest.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.RegionNames;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** watch, put and lock as real processes: live updates, a C writer, the writer lock and its crash release. */
@LinuxOnly
class WatchPutLockTest {
    @RegisterExtension
    final RegionNames names = new RegionNames();

    @TempDir
    Path dir;

    private String region(String stem) {
        String name = names.next(stem);
        ok("create", name, "--size", "4K");
        return name;
    }

    @Test
    void watchPrintsEachChangeThatPutMakes() {
        String name = region("watch");
        try (ChildJvm watch = Cli.start("watch", name, "--offset", "100", "--interval", "20")) {
            assertThat(watch.awaitLine(l -> true, Cli.WAIT)).as("the string at the start: empty").isEmpty();
            for (String text : List.of("hello", "hello world", "ü and 漢字", "two\nlines", "x")) {
                Cli.Result put = ok("put", name, "--offset", "100", text);
                assertThat(put.stdout()).startsWith("wrote " + (text.getBytes(StandardCharsets.UTF_8).length + 1)
                    + " bytes (TEXT and its NUL) at offset 100 of " + name + " under the writer lock");
                assertThat(watch.awaitLine(l -> true, Cli.WAIT)).isEqualTo(text.replace("\n", "\\n"));
            }
            ok("put", name, "--offset", "100", "x"); // the same string again: no change, no line
            ok("put", name, "--offset", "100", "last");
            assertThat(watch.awaitLine(l -> true, Cli.WAIT)).isEqualTo("last");

            watch.process().toHandle().destroy(); // SIGTERM, keeping the pipes open (Process.destroy() closes them)
            assertThat(watch.awaitExit(Cli.WAIT)).as("128 + SIGTERM").isEqualTo(143);
            assertThat(watch.stdoutAfterExit(Cli.WAIT).getLast()).as("nothing more printed").isEqualTo("last");
            assertThat(watch.stderr()).as("a clean end, no trace").isEmpty();
        }
        assertThat(inspectJson(name).get("attached")).as("watch never attached (read-only)").isEqualTo(List.of());
    }

    @Test
    void putAndWatchCheckTheirBounds() {
        String name = region("bounds");
        assertThat(fails(2, "put", name, "--offset", "4090", "too long"))
            .isEqualTo("panmap put: TEXT does not fit: 8 bytes + NUL at offset 4090 need 4099 bytes, the data area of "
                + name + " has 4096 (see 'panmap put --help')");
        assertThat(fails(2, "put", name, "--offset", "-1", "x")).contains("must not be negative");
        assertThat(fails(2, "watch", name, "--offset", "4096")).contains("--offset 4096 is outside " + name);
        ok("put", name, "--offset", "4087", "fits now");
        assertThat(fails(1, "put", Names.unique("missing"), "x")).startsWith("NOT_FOUND: shm_open(");
    }

    @Test
    void lockShowsTheHolderAndACrashReleasesIt() {
        String name = region("lock");
        long holderPid;
        try (ChildJvm holder = Cli.start("lock", name, "--hold", "120")) {
            holderPid = holder.pid();
            String locked = holder.awaitLine(l -> l.startsWith("locked "), Cli.WAIT);
            assertThat(locked).startsWith("locked " + name + ": holder pid " + holderPid + ", alive").endsWith("(this process)");

            Map<String, Object> lockHolder = object(inspectJson(name).get("lockHolder"));
            assertThat(lockHolder).containsEntry("pid", holderPid).containsEntry("alive", true);
            assertThat(ok("inspect", name).stdout()).contains("writer lock  held by pid " + holderPid + ", alive");
            assertThat(ok("list").stdout()).containsPattern("(?m)^" + name + " .* 1 +pid " + holderPid + "$");
            assertThat(fails(1, "put", name, "--wait", "0.3", "blocked"))
                .isEqualTo("WOULD_BLOCK: the writer lock of " + name + " is held by pid " + holderPid + "; gave up after 0.3 s (--wait)");

            holder.kill(); // SIGKILL while holding the lock
        }
        Map<String, Object> stale = inspectJson(name);
        assertThat(object(stale.get("lockHolder"))).as("the record stays, marked dead")
            .containsEntry("pid", holderPid).containsEntry("alive", false);
        assertThat(ok("inspect", name).stdout()).contains("writer lock  stale: its holder pid " + holderPid + " died holding it");
        assertThat(ok("list").stdout()).containsPattern("(?m)^" + name + " .* pid " + holderPid + " \\(stale\\)$");

        Cli.Result next = ok("lock", name, "--hold", "0");
        assertThat(next.stdoutLines()).hasSize(3);
        assertThat(next.stdoutLines().get(1)).isEqualTo("recovered a stale lock: the previous holder, pid " + holderPid
            + ", died holding it and the system released it");
        assertThat(next.stdoutLines().get(2)).startsWith("released " + name + " after ");

        Map<String, Object> after = inspectJson(name);
        assertThat(after).containsEntry("lockHolder", null).containsEntry("lockStaleRecoveries", 1L);
        assertThat(object(after.get("lastStaleHolder"))).containsEntry("pid", holderPid);
        ok("put", name, "--wait", "0", "free again");
    }

    @Test
    void lockReleasesCleanlyOnSigterm() {
        String name = region("lock-term");
        try (ChildJvm holder = Cli.start("lock", name)) {
            holder.awaitLine(l -> l.startsWith("locked "), Cli.WAIT);
            holder.awaitLine(l -> l.equals("holding until interrupted (Ctrl-C)"), Cli.WAIT);
            assertThat((List<?>) inspectJson(name).get("attached")).hasSize(1);
            holder.process().toHandle().destroy(); // SIGTERM, keeping the pipes open
            assertThat(holder.awaitLine(l -> l.startsWith("released "), Cli.WAIT)).startsWith("released " + name + " after ");
            assertThat(holder.awaitExit(Cli.WAIT)).isEqualTo(143);
        }
        Map<String, Object> after = inspectJson(name);
        assertThat(after).as("released by the process itself: no stale record, no attach slot left")
            .containsEntry("lockHolder", null).containsEntry("lockStaleRecoveries", 0L).containsEntry("attached", List.of());
    }

    /** The C program of the test: maps a plain file and writes each line of its stdin there, with a NUL. */
    private static final String C_WRITER = """
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <unistd.h>

        int main(int argc, char **argv) {
            int fd = open(argv[1], O_RDWR);
            if (fd < 0) { perror("open"); return 1; }
            long offset = atol(argv[2]);
            char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (p == MAP_FAILED) { perror("mmap"); return 1; }
            char line[256];
            while (fgets(line, sizeof line, stdin)) {
                line[strcspn(line, "\\n")] = 0;
                memcpy(p + offset, line, strlen(line) + 1);
                printf("WROTE %s\\n", line);
                fflush(stdout);
            }
            return 0;
        }
        """;

    @Test
    void watchRawPrintsWhatACProgramWritesIntoAPlainFile() throws Exception {
        Path source = dir.resolve("writer.c");
        Path binary = dir.resolve("writer");
        Files.writeString(source, C_WRITER);
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-O1", "-o", binary.toString(), source.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no C compiler (cc) to build the writer: " + e.getMessage());
            return;
        }
        String ccOutput = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cc.waitFor()).as("cc: " + ccOutput).isZero();

        Path shared = dir.resolve("share.txt");
        Files.write(shared, new byte[4096]);
        Process writer = new ProcessBuilder(binary.toString(), shared.toString(), "16").start();
        try (ChildJvm watch = Cli.start("watch", "--raw", shared.toString(), "--offset", "16", "--interval", "20");
             PrintWriter toWriter = new PrintWriter(writer.getOutputStream(), true, StandardCharsets.UTF_8)) {
            var fromWriter = new java.io.BufferedReader(new java.io.InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
            assertThat(watch.awaitLine(l -> true, Cli.WAIT)).as("a zeroed file: the empty string").isEmpty();
            for (String text : List.of("hello from C", "a longer second line from C", "short", "ünïcödé")) {
                toWriter.println(text);
                assertThat(fromWriter.readLine()).isEqualTo("WROTE " + text);
                assertThat(watch.awaitLine(l -> true, Cli.WAIT)).isEqualTo(text);
            }
            ok("put", "--raw", shared.toString(), "--offset", "16", "and from put --raw");
            assertThat(watch.awaitLine(l -> true, Cli.WAIT)).isEqualTo("and from put --raw");
        } finally {
            writer.destroyForcibly();
            writer.waitFor(30, TimeUnit.SECONDS);
        }
        byte[] file = Files.readAllBytes(shared);
        assertThat(new String(file, 16, 18, StandardCharsets.UTF_8)).isEqualTo("and from put --raw");
        assertThat(file[16 + 18]).as("the NUL").isZero();
        assertThat(file.length).as("a raw file keeps its size: no header").isEqualTo(4096);
    }

    @Test
    void rawNeedsAFileWithSomethingInIt() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty"));
        assertThat(fails(1, "watch", "--raw", empty.toString())).startsWith("INVALID_ARGUMENT: " + empty + " is empty");
        assertThat(fails(1, "put", "--raw", dir.resolve("none").toString(), "x")).startsWith("NOT_FOUND: open(");
        assertThat(fails(2, "watch", "--raw", empty.toString(), Names.unique("both"))).contains("give only one of");
    }
}
