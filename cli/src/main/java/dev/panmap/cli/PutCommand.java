package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "put", mixinStandardHelpOptions = true,
    customSynopsis = "panmap put (NAME | --file PATH | --raw PATH) [--offset N] [--wait SECONDS] TEXT",
    description = {"Writes a NUL-terminated string into a region.", "",
        "Writes TEXT in UTF-8 and a NUL at an offset of the data area of a panmap region, under its writer lock,"
            + " or of a plain file with --raw (no lock: C programs do not take one).", ""})
final class PutCommand extends StringCommand {
    @Parameters(index = "1", arity = "0..1", paramLabel = "TEXT", description = "what to write")
    String text;

    @Option(names = "--wait", paramLabel = "SECONDS", description = "how long to wait for the writer lock (default: 10)")
    double waitSeconds = 10;

    @Override
    public Integer call() throws InterruptedException {
        if (text == null && name != null && (file != null || raw != null)) { // "put --raw PATH TEXT": TEXT came first
            text = name;
            name = null;
        }
        Target target = target(raw);
        if (text == null) {
            throw usage("give the TEXT to write");
        }
        Duration wait = waitOption(waitSeconds);
        if (raw != null) {
            try (SharedRegion region = target.open(OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
                report(target, Strings.write(region.segment(), offset, text, target.label()), "");
            }
            return 0;
        }
        try (SharedRegion region = target.open(OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            WriterLock lock = region.writerLock();
            if (!lock.tryLock(wait)) {
                throw lockNotHad(region, target, waitSeconds);
            }
            try {
                report(target, Strings.write(region.segment(), offset, text, "the data area of " + target.label()), " under the writer lock");
            } finally {
                lock.unlock();
            }
        }
        return 0;
    }

    private void report(Target target, int bytes, String how) {
        out().println("wrote " + bytes + " bytes (TEXT and its NUL) at offset " + offset + " of " + target.label() + how);
    }
}
