package dev.panmap.examples;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.nio.charset.StandardCharsets;

/**
 * Example: a service keeps its live counters and state in a region; {@link StatusMonitor} watches
 * them from another process. One {@link SeqRecord} holds the whole status, so a monitor always sees
 * a consistent snapshot (requests, errors and state from the same moment), without locks.
 *
 * <pre>
 * status payload (64 bytes)
 *   0  requests      long
 *   8  errors        long
 *  16  heartbeat ms  long
 *  24  state         32 bytes, UTF-8, NUL-padded
 * </pre>
 *
 * Usage: {@code StatusWriter NAME UPDATES INTERVAL_MS}
 */
public final class StatusWriter {
    static final int PAYLOAD = 64;
    static final long REQUESTS = 0;
    static final long ERRORS = 8;
    static final long HEARTBEAT = 16;
    static final long STATE = 24;
    static final int STATE_BYTES = 32;

    public static void main(String[] args) throws Exception {
        String name = args[0];
        int updates = Integer.parseInt(args[1]);
        long interval = Long.parseLong(args[2]);
        try (SharedRegion region = SharedRegion.open(name, OpenMode.OPEN_OR_CREATE, RegionOptions.defaults().size(4096))) {
            WriterLock lock = region.writerLock();
            SeqRecord status;
            try (WriterLock.Held held = lock.hold()) {
                status = region.created() ? SeqRecord.format(region, 0, PAYLOAD) : SeqRecord.attach(region, 0);
            }
            long requests = 0;
            long errors = 0;
            for (int i = 1; i <= updates; i++) {
                requests += 100;
                errors += i % 3 == 0 ? 1 : 0;
                String state = i == updates ? "stopping" : "serving";
                long r = requests;
                long e = errors;
                try (WriterLock.Held held = lock.hold()) {
                    status.write(p -> {
                        p.set(JAVA_LONG, REQUESTS, r);
                        p.set(JAVA_LONG, ERRORS, e);
                        p.set(JAVA_LONG, HEARTBEAT, System.currentTimeMillis());
                        byte[] text = state.getBytes(StandardCharsets.UTF_8);
                        p.asSlice(STATE, STATE_BYTES).fill((byte) 0);
                        p.asSlice(STATE, text.length).copyFrom(java.lang.foreign.MemorySegment.ofArray(text));
                    });
                }
                System.out.println("wrote requests=" + r + " errors=" + e + " state=" + state);
                Thread.sleep(interval);
            }
        }
    }
}
