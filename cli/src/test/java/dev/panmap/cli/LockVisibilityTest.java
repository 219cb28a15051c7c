package dev.panmap.cli;

import static dev.panmap.cli.CliTest.fails;
import static dev.panmap.cli.CliTest.inspectJson;
import static dev.panmap.cli.CliTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.internal.RegionLayout;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.ReadLockChild;
import dev.panmap.testing.RegionNames;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 20: a process with read access takes shared locks on the writer lock's byte and on attach
 * slots' bytes; put --wait and grow give up, and on main's code inspect said "writer lock free" and
 * "0 alive" meanwhile. Now inspect, list and the give-up message say who blocks them.
 */
@LinuxOnly
class LockVisibilityTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    final RegionNames names = new RegionNames();

    @Test
    void inspectListAndPutSayWhoHoldsAReadLockOnTheLockBytes() {
        String name = names.next("cli-read-locked");
        ok("create", name, "--size", "64K", "--max-attach", "4");
        try (ChildJvm squatter = ChildJvm.start(ReadLockChild.class, "/dev/shm" + name, Long.toString(RegionLayout.WRITER_LOCK_BYTE),
                 Long.toString(RegionLayout.SLOT_LOCK_BYTE), Long.toString(RegionLayout.SLOT_LOCK_BYTE + 1))) {
            long pid = Long.parseLong(squatter.awaitPrefix("READ-LOCKED pid=", WAIT));

            String text = ok("inspect", name).stdout();
            assertThat(text).contains("writer lock  blocked by a read lock of pid " + pid + ": no writer can take it while that lock stays")
                .contains("attached     0 alive, 4 slots")
                .contains("  2 slots are blocked by read locks of pid " + pid + ": writable attaches cannot take them");
            Map<String, Object> json = inspectJson(name);
            assertThat(json.get("locks")).isEqualTo(List.of(Map.of("lock", "writer", "type", "read", "pid", pid),
                Map.of("lock", "slot 0", "type", "read", "pid", pid), Map.of("lock", "slot 1", "type", "read", "pid", pid)));
            assertThat(ok("list").stdoutLines()).anyMatch(l -> l.startsWith(name + " ") && l.endsWith("read-locked by pid " + pid));

            assertThat(fails(1, "put", name, "x", "--wait", "0.2")).isEqualTo("WOULD_BLOCK: the writer lock of " + name + " is held by no writer:"
                + " it is blocked by a read lock of pid " + pid + " (a process with read access; see docs/SECURITY.md); gave up after 0.2 s (--wait)");
        }
        assertThat(ok("inspect", name).stdout()).contains("writer lock  free").doesNotContain("blocked");
        assertThat(inspectJson(name).get("locks")).isEqualTo(List.of());
    }
}
