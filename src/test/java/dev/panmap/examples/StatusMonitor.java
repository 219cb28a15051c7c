package dev.panmap.examples;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * Example: watches the status a {@link StatusWriter} keeps, live, from another process: read-only,
 * no lock, no system call per read. Prints one line per new version until the state is "stopping".
 *
 * Usage: {@code StatusMonitor NAME}
 */
public final class StatusMonitor {
    public static void main(String[] args) throws Exception {
        RegionOptions options = RegionOptions.defaults().attachTimeout(Duration.ofSeconds(10));
        try (SharedRegion region = SharedRegion.open(args[0], OpenMode.OPEN_READ_ONLY, options)) {
            SeqRecord status = SeqRecord.attach(region, 0);
            MemorySegment snapshot = Arena.ofAuto().allocate(StatusWriter.PAYLOAD);
            long seen = -1;
            while (true) {
                long version = status.read(snapshot);
                if (version != seen && version > 0) {
                    seen = version;
                    String state = snapshot.asSlice(StatusWriter.STATE, StatusWriter.STATE_BYTES).getString(0);
                    System.out.println("version=" + version + " requests=" + snapshot.get(JAVA_LONG, StatusWriter.REQUESTS)
                        + " errors=" + snapshot.get(JAVA_LONG, StatusWriter.ERRORS) + " state=" + state);
                    if (state.equals("stopping")) {
                        return;
                    }
                }
                Thread.sleep(1);
            }
        }
    }
}
