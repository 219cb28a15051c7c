package dev.panmap.cli;

import dev.panmap.Addressing;
import dev.panmap.HugePages;
import dev.panmap.OpenMode;
import dev.panmap.Permissions;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "create", mixinStandardHelpOptions = true,
    customSynopsis = "panmap create (NAME | --file PATH) --size SIZE [--max-size SIZE] [--direct [--base ADDR]] [--mode OCTAL] [--max-attach N]"
        + " [--huge-pages none|preferred|required [--huge-page-size 2M|1G]]",
    description = {"Creates a region.", "", "The region lives on after this command ends, until 'panmap remove'.", ""})
final class CreateCommand extends RegionCommand {
    @Option(names = "--size", required = true, paramLabel = "SIZE", converter = Converters.Size.class,
        description = "size of the data area: 4096, 64K, 1M, 2G (rounded up to whole pages)")
    long size;

    @Option(names = "--max-size", paramLabel = "SIZE", converter = Converters.Size.class,
        description = "the most the data area may grow to with 'panmap grow' (default: the size; it cannot grow);"
            + " every process keeps that much address space, no memory")
    long maxSize;

    @Option(names = "--direct", description = "DIRECT addressing: every process maps the region at one base address,"
        + " so absolute addresses can be stored in it (default: OFFSET, mapped anywhere)")
    boolean direct;

    @Option(names = "--base", paramLabel = "ADDR", converter = Converters.Address.class,
        description = "with --direct: the base address, e.g. 0x700000000000 (default: the first free one panmap finds)")
    Long base;

    @Option(names = "--mode", paramLabel = "OCTAL", converter = Converters.Mode.class,
        description = "permission bits, applied exactly whatever the umask (default: 0600, this user only)")
    Permissions mode = Permissions.ownerOnly();

    @Option(names = "--max-attach", paramLabel = "N", description = "slots in the attached-process table (default: 64)")
    int maxAttach = RegionOptions.defaults().maxAttached();

    @Option(names = "--huge-pages", paramLabel = "CHOICE", description = "huge pages: none, preferred (ordinary ones if there are"
        + " none, and says so) or required (fails if there are none); a file on hugetlbfs has them anyway (default: none)")
    String hugePages = "none";

    @Option(names = "--huge-page-size", paramLabel = "SIZE", converter = Converters.Size.class,
        description = "the huge page size to ask for: 2M or 1G, where the kernel offers it (default: 2M)")
    long hugePageSize = RegionOptions.DEFAULT_HUGE_PAGE_SIZE;

    /** {@return the --huge-pages choice} */
    static HugePages hugePages(String value, CommandLine.Model.CommandSpec spec) {
        try {
            return HugePages.valueOf(value.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--huge-pages takes none, preferred or required, not " + value);
        }
    }

    @Override
    public Integer call() {
        Target target = target();
        if (base != null && !direct) {
            throw usage("--base needs --direct");
        }
        RegionOptions options = RegionOptions.defaults().size(size).maxSize(maxSize).permissions(mode).maxAttached(maxAttach)
            .addressing(direct ? Addressing.DIRECT : Addressing.OFFSET).hugePages(hugePages(hugePages, spec)).hugePageSize(hugePageSize);
        if (base != null) {
            options = options.baseAddress(base);
        }
        try (SharedRegion region = target.open(OpenMode.CREATE_ONLY, options)) {
            out().println("created " + region.name() + ": " + Strings.size(region.size()) + " of data at offset " + region.dataOffset()
                + ", " + (direct ? "DIRECT at base " + Strings.hex(region.baseAddress()) : "OFFSET")
                + ", mode " + region.permissions() + ", " + region.maxAttached() + " attach slots"
                + (region.reservedSpan() > region.regionSize() ? ", may grow to " + Strings.size(region.reservedSpan() - region.dataOffset()) : "")
                + region.pageUsage().filter(p -> p.effectivePageSize() > 4096).map(p -> ", " + Strings.size(p.effectivePageSize()) + " pages").orElse(""));
            region.pageFallback().ifPresent(why -> out().println("the preferred huge pages fell back: " + why));
        }
        return 0;
    }
}
