package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.ProcessInfo;
import dev.panmap.SharedRegion;
import dev.panmap.ipc.RingState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ring", mixinStandardHelpOptions = true,
    customSynopsis = "panmap ring (NAME | --file PATH) [--offset N] [--json]",
    description = {"Shows the state of a message ring or broadcast buffer in a region.", "",
        "Kind, capacity, produced and consumed (messages and bytes), lag, producers and consumer (alive or dead),"
            + " claims of dead producers skipped, consumers asleep in the kernel and the wake calls made.",
        "Opens the region read-only: it needs only read permission, writes nothing and does not attach;"
            + " the counts are read while the ring runs, each exact, not all at one instant.", ""})
final class RingCommand extends RegionCommand {
    @Option(names = "--offset", paramLabel = "N", converter = Converters.Offset.class,
        description = "the ring's data offset (4096, 0x1000 or 4K); 0 unless told")
    long offset;

    @Option(names = "--json", description = "print one JSON object instead")
    boolean json;

    @Override
    public Integer call() {
        Target target = target();
        try (SharedRegion region = target.open(OpenMode.OPEN_READ_ONLY, lookingOptions(Duration.ofSeconds(1)))) {
            RingState s = dev.panmap.ipc.Ring.inspect(region, offset);
            if (json) {
                out().println(Json.write(toJson(region, s)));
            } else {
                text(region, s).forEach(out()::println);
            }
        }
        return 0;
    }

    private Map<String, Object> toJson(SharedRegion region, RingState s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("region", region.name());
        m.put("offset", offset);
        m.put("kind", s.kind());
        m.put("capacity", s.capacity());
        m.put("maxMessage", s.maxMessage());
        m.put("producedBytes", s.produced());
        m.put("consumedBytes", s.consumed());
        m.put("lagBytes", s.lag());
        m.put("producedMessages", s.producedMessages());
        m.put("consumedMessages", s.consumedMessages());
        m.put("maxProducers", s.maxProducers());
        m.put("producersAlive", s.producersAlive());
        m.put("producers", s.producers().stream().map(RingCommand::process).toList());
        m.put("consumer", s.consumer() == null ? null : process(s.consumer()));
        m.put("skippedClaims", s.skippedClaims());
        m.put("skippedBytes", s.skippedBytes());
        m.put("sleepingConsumers", s.sleeping());
        m.put("wakeCalls", s.wakeCalls());
        return m;
    }

    private static Map<String, Object> process(ProcessInfo p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", p.pid());
        m.put("alive", p.alive());
        return m;
    }

    private List<String> text(SharedRegion region, RingState s) {
        List<String> out = new ArrayList<>();
        boolean broadcast = s.kind().equals("broadcast");
        out.add("ring         " + s.kind() + " at data offset " + offset + " of " + region.name());
        out.add("capacity     " + Strings.size(s.capacity()) + " (" + s.capacity() + " bytes); largest message " + s.maxMessage() + " bytes");
        if (broadcast) {
            out.add("transmitted  " + s.producedMessages() + " messages, " + s.produced() + " bytes");
            out.add("transmitter  " + (s.producers().isEmpty() ? "none" : describe(s.producers().getFirst())));
            out.add("receivers    not registered: each counts its own laps and losses");
            return out;
        }
        out.add("produced     " + s.producedMessages() + " messages, " + s.produced() + " bytes");
        out.add("consumed     " + s.consumedMessages() + " messages, " + s.consumed() + " bytes");
        out.add("lag          " + s.lag() + " bytes");
        long dead = s.producers().size() - s.producersAlive();
        out.add("producers    " + s.producersAlive() + " alive" + (dead > 0 ? ", " + dead + " dead" : "") + " of " + s.maxProducers()
            + " entries" + (s.producers().isEmpty() ? "" : ": " + String.join(", ", s.producers().stream().map(RingCommand::describe).toList())));
        out.add("consumer     " + (s.consumer() == null ? "none" : describe(s.consumer())));
        out.add("skipped      " + s.skippedClaims() + " claims of dead producers (" + s.skippedBytes() + " bytes)");
        out.add("sleeping     " + s.sleeping() + " consumer" + (s.sleeping() == 1 ? "" : "s") + " asleep in the kernel; "
            + s.wakeCalls() + " wake calls made");
        return out;
    }

    private static String describe(ProcessInfo p) {
        return "pid " + p.pid() + " (" + (p.alive() ? "alive" : "dead") + ")";
    }
}
