package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.SharedRegion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "grow", mixinStandardHelpOptions = true,
    customSynopsis = "panmap grow (NAME | --file PATH) --size SIZE",
    description = {"Grows a region's data area in place, under its writer lock.", "",
        "Up to the size given with 'create --max-size'. Attached processes see the new size on their next look;"
            + " DIRECT pointers stay valid. Regions do not shrink.", ""})
final class GrowCommand extends RegionCommand {
    @Option(names = "--size", required = true, paramLabel = "SIZE", converter = Converters.Size.class,
        description = "the new size of the data area: 64K, 1M, 2G (rounded up to whole pages)")
    long size;

    @Override
    public Integer call() {
        Target target = target();
        try (SharedRegion region = target.open(OpenMode.OPEN_ONLY, lookingOptions(java.time.Duration.ofSeconds(5)))) {
            long before = region.size();
            region.grow(size);
            out().println((region.size() == before ? "already " : "grew " + target.label() + " from " + Strings.size(before) + " to ")
                + Strings.size(region.size()) + " of data, generation " + region.generation() + "; it may grow to "
                + Strings.size(region.reservedSpan() - region.dataOffset()));
        }
        return 0;
    }
}
