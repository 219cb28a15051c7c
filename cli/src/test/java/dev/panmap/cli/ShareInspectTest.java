package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionNames;
import dev.panmap.testing.Requirement;
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
        Requirement.kernelPageAccounting("the pages resident");
        String name = names.next("pages");
        CliTest.ok("create", name, "--size", "4M");
        // the header page; the data pages were reserved (fallocate) but never written, and mincore does not
        // count such a page of shared memory as resident, so inspect does not map them in (issue 20: a read
        // is not free, it may allocate)
        assertThat(CliTest.ok("inspect", name).stdout())
            .containsPattern("(?m)^pages +4K in effect, as the kernel reports it: 4K pages; 4K of 4100K resident here, none in huge pages$");
        try (dev.panmap.SharedRegion written = dev.panmap.SharedRegion.open(name)) {
            written.segment().fill((byte) 1); // now resident: inspect maps in one page per 2 MiB of them (and the kernel's fault-around more)
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
            "(?m)^pages +4K in effect, as the kernel reports it: 4K pages; (\\d+)K of 4100K resident here, none in huge pages$")
            .matcher(CliTest.ok("inspect", name).stdout());
        assertThat(m.find()).isTrue();
        assertThat(Long.parseLong(m.group(1))).isBetween(12L, 4100L);
        Map<String, Object> pages = CliTest.object(CliTest.inspectJson(name).get("pages"));
        assertThat(pages).containsEntry("effectivePageSize", 4096L).containsEntry("kernelPageSize", 4096L)
            .containsEntry("hugetlb", false).containsEntry("transparentHugeBytes", 0L).containsEntry("mappedBytes", 4100L << 10);
    }

    /**
     * Issue 20: inspect of a sparse region must not make it resident. On main's code inspect read one
     * byte per 2 MiB, and a read of a hole of a shared-memory object allocates a page: 512 pages (2 MiB)
     * of this 1 GiB region. Now it maps only pages mincore finds resident already.
     */
    @Test
    void inspectOfASparseRegionAllocatesNothing() throws Exception {
        String name = names.next("sparse");
        try (dev.panmap.SharedRegion r = dev.panmap.SharedRegion.create(name,
                 dev.panmap.RegionOptions.defaults().size(1L << 30).reserve(false))) {
            java.nio.file.Path file = java.nio.file.Path.of("/dev/shm" + name);
            long before = allocatedBlocks(file);
            assertThat(CliTest.ok("inspect", name).stdout()).containsPattern("(?m)^pages +4K in effect");
            assertThat(allocatedBlocks(file) - before).as("512-byte blocks allocated by inspect").isZero();
        }
    }

    private static long allocatedBlocks(java.nio.file.Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as(out).isZero();
        return Long.parseLong(out);
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
