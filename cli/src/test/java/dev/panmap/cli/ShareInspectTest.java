package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code share} hands an anonymous region out on a socket; {@code inspect} shows the page size the kernel reports. */
@LinuxOnly
class ShareInspectTest {
    @RegisterExtension
    final RegionNames names = new RegionNames();

    @TempDir
    Path dir;

    @Test
    void inspectShowsThePagesInEffect() {
        String name = names.next("pages");
        CliTest.ok("create", name, "--size", "4M");
        // the header page and one byte per 2 MiB of data, which inspect reads so that smaps counts them
        assertThat(CliTest.ok("inspect", name).stdout())
            .containsPattern("(?m)^pages +4K in effect, as the kernel reports it: 4K pages; 12K of 4100K resident here, none in huge pages$");
        Map<String, Object> pages = CliTest.object(CliTest.inspectJson(name).get("pages"));
        assertThat(pages).containsEntry("effectivePageSize", 4096L).containsEntry("kernelPageSize", 4096L)
            .containsEntry("hugetlb", false).containsEntry("transparentHugeBytes", 0L).containsEntry("mappedBytes", 4100L << 10);
    }

    @Test
    void shareHandsAnAnonymousRegionToInspect() throws Exception {
        Path socket = dir.resolve("share.sock");
        try (ChildJvm share = Cli.start("share", "--size", "1M", "--socket", socket.toString(), "--count", "1")) {
            String sharing = share.awaitPrefix("sharing memfd:panmap-", Cli.WAIT);
            assertThat(sharing).endsWith(": 1M of data, OFFSET, 4K pages; handing it to this user's processes on " + socket);
            Map<String, Object> info = CliTest.inspectJson("--socket", socket.toString());
            assertThat(info).containsEntry("backing", "ANONYMOUS")
                .containsEntry("ownerUid", ((Integer) java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid")).longValue()).containsEntry("size", 1L << 20)
                .containsEntry("creatorPid", share.pid());
            assertThat(share.awaitPrefix("handed to pid ", Cli.WAIT)).matches("\\d+");
            assertThat(share.awaitExit(Cli.WAIT)).isZero();
        }
    }
}
