package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.SharedRegion;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "inspect", mixinStandardHelpOptions = true,
    customSynopsis = "panmap inspect (NAME | --file PATH | --socket PATH) [--json]",
    description = {"Shows what a region's header says.", "",
        "Layout version, size, data offset, addressing and base address, the page size in effect (read from the kernel),"
            + " permissions, creator, writer-lock holder (alive or stale) and attached processes.",
        "Opens the region read-only: it needs only read permission, writes nothing and does not attach.", ""})
final class InspectCommand extends RegionCommand {
    @Option(names = "--json", description = "print one JSON object instead")
    boolean json;

    @Option(names = "--socket", paramLabel = "PATH", description = "an anonymous region that 'panmap share' (or a program) offers on this Unix socket")
    Path socket;

    @Override
    public Integer call() {
        if (socket != null && (name != null || file != null)) {
            throw usage("give only one of a region NAME, --file PATH or --socket PATH");
        }
        try (SharedRegion region = socket != null
                 ? SharedRegion.receive(socket, OpenMode.OPEN_READ_ONLY, lookingOptions(Duration.ofSeconds(5)))
                 : target().open(OpenMode.OPEN_READ_ONLY, lookingOptions(Duration.ofSeconds(1)))) {
            RegionInfo info = RegionInfo.of(region, RegionInfo.PAGE_SAMPLE);
            if (json) {
                out().println(Json.write(info.toJson()));
            } else {
                info.toText().forEach(out()::println);
            }
        }
        return 0;
    }
}
