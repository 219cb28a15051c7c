package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.SharedRegion;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "inspect", mixinStandardHelpOptions = true,
    customSynopsis = "panmap inspect (NAME | --file PATH) [--json]",
    description = {"Shows what a region's header says.", "",
        "Layout version, size, data offset, addressing and base address, permissions, creator, writer-lock holder"
            + " (alive or stale) and attached processes.",
        "Opens the region read-only: it needs only read permission, writes nothing and does not attach.", ""})
final class InspectCommand extends RegionCommand {
    @Option(names = "--json", description = "print one JSON object instead")
    boolean json;

    @Override
    public Integer call() {
        Target target = target();
        try (SharedRegion region = target.open(OpenMode.OPEN_READ_ONLY, lookingOptions(Duration.ofSeconds(1)))) {
            RegionInfo info = RegionInfo.of(region);
            if (json) {
                out().println(Json.write(info.toJson()));
            } else {
                info.toText().forEach(out()::println);
            }
        }
        return 0;
    }
}
