package dev.panmap.cli;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.RegionSocket;
import dev.panmap.SharedRegion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "share", mixinStandardHelpOptions = true,
    customSynopsis = "panmap share --size SIZE --socket PATH [--direct] [--huge-pages none|preferred|required [--huge-page-size 2M|1G]] [--count N]",
    description = {"Creates an anonymous region and hands it to processes of this user that connect to a Unix socket.", "",
        "The region has no name anywhere (memfd_create); it lives while this command or any process that received it has it."
            + " Others attach with SharedRegion.receive(path), or look with 'panmap inspect --socket PATH'."
            + " Runs until Ctrl-C, or until --count processes were handed the region.", ""})
final class ShareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--size", required = true, paramLabel = "SIZE", converter = Converters.Size.class,
        description = "size of the data area: 4096, 64K, 1M, 2G")
    long size;

    @Option(names = "--socket", required = true, paramLabel = "PATH", description = "the Unix socket to listen on (must not exist)")
    Path socket;

    @Option(names = "--direct", description = "DIRECT addressing: every process maps the region at one base address")
    boolean direct;

    @Option(names = "--huge-pages", paramLabel = "CHOICE", description = "none, preferred or required (default: none)")
    String hugePages = "none";

    @Option(names = "--huge-page-size", paramLabel = "SIZE", converter = Converters.Size.class,
        description = "2M or 1G, where the kernel offers it (default: 2M)")
    long hugePageSize = RegionOptions.DEFAULT_HUGE_PAGE_SIZE;

    @Option(names = "--count", paramLabel = "N", description = "stop after handing the region to N processes (default: until Ctrl-C)")
    int count = Integer.MAX_VALUE;

    @Override
    public Integer call() {
        RegionOptions options = RegionOptions.defaults().size(size).addressing(direct ? Addressing.DIRECT : Addressing.OFFSET)
            .hugePages(CreateCommand.hugePages(hugePages, spec)).hugePageSize(hugePageSize);
        var out = spec.commandLine().getOut();
        try (StopSignal stop = new StopSignal();
             SharedRegion region = SharedRegion.createAnonymous(options);
             RegionSocket listener = RegionSocket.listen(region, socket)) {
            out.println("sharing " + region.name() + ": " + Strings.size(region.size()) + " of data, "
                + (direct ? "DIRECT at base " + Strings.hex(region.baseAddress()) : "OFFSET")
                + region.pageUsage().map(p -> ", " + Strings.size(p.effectivePageSize()) + " pages").orElse("")
                + "; handing it to this user's processes on " + socket);
            region.pageFallback().ifPresent(why -> out.println("the preferred huge pages fell back: " + why));
            out.flush();
            int handed = 0;
            while (handed < count && !stop.stopped()) {
                Optional<RegionSocket.Handover> h = listener.handOver(Duration.ofMillis(200));
                if (h.isPresent()) {
                    RegionSocket.Handover x = h.get();
                    out.println(x.granted() ? "handed to pid " + x.pid() : "refused pid " + x.pid() + ": " + x.refusal());
                    out.flush();
                    handed += x.granted() ? 1 : 0;
                }
            }
        }
        return 0;
    }
}
