package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Arrays;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "watch", mixinStandardHelpOptions = true,
    customSynopsis = "panmap watch (NAME | --file PATH | --raw PATH) [--offset N] [--interval MS]",
    description = {"Prints a string in a region each time it changes, until interrupted.", "",
        "Stays attached and prints the NUL-terminated UTF-8 string at an offset once at the start and then at each"
            + " change, one line per change (control characters escaped).",
        "The offset is in the data area of a panmap region, or in the file itself with --raw: a plain file with"
            + " no panmap header, as a C program would map it. Opens read-only and does not attach.", ""})
final class WatchCommand extends StringCommand {
    @Option(names = "--interval", paramLabel = "MS", description = "how often to look, in milliseconds (default: 100)")
    long interval = 100;

    @Override
    public Integer call() {
        Target target = target(raw);
        if (interval < 1) {
            throw usage("--interval must be at least 1 ms: " + interval);
        }
        RegionOptions options = raw != null ? RegionOptions.defaults() : lookingOptions(Duration.ofSeconds(5));
        PrintWriter out = out();
        try (StopSignal stop = new StopSignal(); SharedRegion region = target.open(OpenMode.OPEN_READ_ONLY, options)) {
            MemorySegment data = region.segment();
            if (offset >= data.byteSize()) {
                throw usage("--offset " + offset + " is outside " + target.label() + ", whose "
                    + (raw != null ? "size" : "data area") + " is " + data.byteSize() + " bytes");
            }
            byte[] last = null;
            do {
                byte[] now = Strings.readSettled(data, offset);
                if (last == null || !Arrays.equals(now, last)) {
                    out.println(Strings.printable(now));
                    last = now;
                }
            } while (stop.sleep(interval));
        }
        return 0;
    }
}
