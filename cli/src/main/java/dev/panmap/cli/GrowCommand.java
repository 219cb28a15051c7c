package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.SharedRegion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "grow", mixinStandardHelpOptions = true,
    customSynopsis = "panmap grow (NAME | --file PATH) --size SIZE [--wait SECONDS]",
    description = {"Grows a region's data area in place, under its writer lock.", "",
        "Up to the size given with 'create --max-size'. Attached processes see the new size on their next look;"
            + " DIRECT pointers stay valid. Regions do not shrink.", ""})
final class GrowCommand extends RegionCommand {
    @Option(names = "--size", required = true, paramLabel = "SIZE", converter = Converters.Size.class,
        description = "the new size of the data area: 64K, 1M, 2G (rounded up to whole pages)")
    long size;

    @Option(names = "--wait", paramLabel = "SECONDS", description = "how long to wait for the writer lock (default: 10)")
    double waitSeconds = 10;

    @Override
    public Integer call() throws InterruptedException {
        Target target = target();
        java.time.Duration wait = waitOption(waitSeconds);
        try (SharedRegion region = target.open(OpenMode.OPEN_ONLY, lookingOptions(java.time.Duration.ofSeconds(5)))) {
            long before = region.size();
            if (!region.tryGrow(size, wait)) {
                throw lockNotHad(region, target, waitSeconds);
            }
            out().println((region.size() == before ? "already " : "grew " + target.label() + " from " + Strings.size(before) + " to ")
                + Strings.size(region.size()) + " of data, generation " + region.generation() + "; it may grow to "
                + Strings.size(region.reservedSpan() - region.dataOffset()));
        }
        return 0;
    }
}
