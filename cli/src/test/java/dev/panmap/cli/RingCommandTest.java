package dev.panmap.cli;

import static dev.panmap.cli.CliTest.fails;
import static dev.panmap.cli.CliTest.object;
import static dev.panmap.cli.CliTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.ipc.BroadcastTransmitter;
import dev.panmap.ipc.Ring;
import dev.panmap.ipc.RingConsumer;
import dev.panmap.ipc.RingProducer;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.RegionNames;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code panmap ring}: a ring's state while this process produces and consumes, in text and JSON. */
@LinuxOnly
class RingCommandTest {
    @RegisterExtension
    final RegionNames names = new RegionNames();

    @Test
    void showsARingAndABroadcastBuffer() {
        String name = names.next("ring");
        long pid = ProcessHandle.current().pid();
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20))) {
            Ring ring = Ring.create(region, 0, Ring.Kind.MANY_TO_ONE, 64 << 10, 8);
            try (RingProducer p = ring.producer(); RingConsumer c = ring.consumer();
                 BroadcastTransmitter t = BroadcastTransmitter.create(region, 512 << 10, 4096)) {
                MemorySegment m = Arena.ofAuto().allocate(24);
                for (int i = 0; i < 3; i++) {
                    p.write(1, m);
                }
                assertThat(c.read((type, b, o, l) -> { }, 1)).isEqualTo(1);
                t.transmit(5, m);

                Cli.Result text = ok("ring", name);
                assertThat(text.stdoutLines()).containsExactly(
                    "ring         many-to-one at data offset 0 of " + name,
                    "capacity     64K (65536 bytes); largest message 8184 bytes",
                    "produced     3 messages, 96 bytes",
                    "consumed     1 messages, 32 bytes",
                    "lag          64 bytes",
                    "producers    1 alive of 8 entries: pid " + pid + " (alive)",
                    "consumer     pid " + pid + " (alive)",
                    "skipped      0 claims of dead producers (0 bytes)",
                    "sleeping     0 consumers asleep in the kernel; 0 wake calls made");

                Map<String, Object> json = object(JsonParser.parse(ok("ring", name, "--json").stdout()));
                assertThat(json).containsEntry("kind", "many-to-one").containsEntry("capacity", 65536L)
                    .containsEntry("producedMessages", 3L).containsEntry("consumedMessages", 1L).containsEntry("lagBytes", 64L)
                    .containsEntry("producersAlive", 1L).containsEntry("skippedClaims", 0L).containsEntry("sleepingConsumers", 0L)
                    .containsEntry("consumer", Map.of("pid", pid, "alive", true))
                    .containsEntry("producers", List.of(Map.of("pid", pid, "alive", true)));

                Cli.Result broadcast = ok("ring", name, "--offset", "512K");
                assertThat(broadcast.stdoutLines()).contains("ring         broadcast at data offset 524288 of " + name,
                    "transmitted  1 messages, 40 bytes", "transmitter  pid " + pid + " (alive)");
                assertThat(fails(1, "ring", name, "--offset", "4K")).startsWith("INCOMPATIBLE_REGION: no message ring at data offset 4096");
            }
        }
    }
}
