package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionChild;
import dev.panmap.testing.Requirement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A newly created file region is durable: the system calls that make it so are watched with
 * {@code strace} on a real child process (a power loss cannot be staged here; the calls can).
 */
@LinuxOnly
class DurabilityTest {
    @TempDir
    Path dir;

    @Test
    void creatingAFileRegionFsyncsTheFileAndItsDirectory() throws Exception {
        Requirement.strace("to watch the child's calls");
        Path trace = dir.resolve("trace.txt");
        Path file = dir.resolve("durable.region");
        try (ChildJvm child = ChildJvm.startWrapped(List.of("strace", "-f", "-qq", "-e", "trace=openat,msync,fsync", "-o", trace.toString()),
                RegionChild.class)) {
            child.awaitPrefix("READY", Duration.ofSeconds(120));
            child.send("create file " + file + " 0600");
            child.awaitPrefix("CREATED ", Duration.ofSeconds(120));
            child.send("exit");
            child.awaitExit(Duration.ofSeconds(120));
        }
        String calls = Files.readString(trace);
        Matcher opened = Pattern.compile("openat\\(AT_FDCWD, \"" + Pattern.quote(file.toString()) + "\", [^)]*O_CREAT[^)]*\\) = (\\d+)").matcher(calls);
        assertThat(opened.find()).as("the region file is created:\n" + calls).isTrue();
        String fd = opened.group(1);
        Matcher dirOpened = Pattern.compile("openat\\(AT_FDCWD, \"" + Pattern.quote(dir.toString()) + "\", [^)]*O_DIRECTORY[^)]*\\) = (\\d+)").matcher(calls);
        // after the file: creation looks at the directory's file system first (is it hugetlbfs?), and that
        // descriptor is closed before the file is made
        assertThat(dirOpened.find(opened.end())).as("its directory is opened:\n" + calls).isTrue();
        int header = calls.indexOf("msync(", opened.end());
        int fileSync = calls.indexOf("fsync(" + fd + ")", opened.end());
        int dirSync = calls.indexOf("fsync(" + dirOpened.group(1) + ")", dirOpened.end());
        assertThat(header).as("the header is written back").isPositive();
        assertThat(fileSync).as("the file is fsynced after its header").isGreaterThan(header);
        assertThat(dirSync).as("then the directory entry").isGreaterThan(fileSync);
    }
}
