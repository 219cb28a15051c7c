package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import java.time.Duration;
import picocli.CommandLine.Command;

@Command(name = "remove", mixinStandardHelpOptions = true,
    customSynopsis = "panmap remove (NAME | --file PATH)",
    description = {"Unlinks a region.", "",
        "Processes still attached keep their mapping until they close it; the name is free at once.", ""})
final class RemoveCommand extends RegionCommand {
    @Override
    public Integer call() {
        Target target = target();
        long stillAttached = attachedNow(target);
        String done = file != null ? SharedRegion.removeFile(file) : SharedRegion.remove(target.name());
        if (!done.startsWith("removed")) { // Windows: a page-file section cannot be removed by name
            out().println(done);
            return 0;
        }
        out().println("removed " + target.label() + (stillAttached > 0 ? " (" + stillAttached + " attached "
            + (stillAttached == 1 ? "process keeps" : "processes keep") + " its memory until they close it)" : ""));
        return 0;
    }

    /** {@return how many live processes are attached, 0 if that cannot be read (not panmap, no access)} */
    private static long attachedNow(Target target) {
        try (SharedRegion region = target.open(OpenMode.OPEN_READ_ONLY, lookingOptions(Duration.ZERO))) {
            return RegionInfo.of(region, 0).liveAttached();
        } catch (RegionException e) {
            return 0; // the unlink says what is wrong, if anything
        }
    }
}
