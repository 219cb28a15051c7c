package dev.panmap.testing;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A child JVM that writes or reads a {@link SeqRecord} whose payload is N longs that a writer always
 * sets all to the same value, so a torn read shows as unequal words.
 * <pre>
 * writer NAME OFFSET   takes the writer lock, prints WRITING pid=P, then writes v, v+1, ... forever
 * reader NAME OFFSET   reads forever on a thread; on "report" prints REPORT reads=N torn=N version=N
 * </pre>
 */
public final class RecordChild {
    public static void main(String[] args) throws Exception {
        String role = args[0];
        SharedRegion region = SharedRegion.open(args[1], role.equals("writer") ? OpenMode.OPEN_ONLY : OpenMode.OPEN_READ_ONLY,
            RegionOptions.defaults());
        SeqRecord record = SeqRecord.attach(region, Long.parseLong(args[2]));
        int words = record.payloadSize() / 8;
        if (role.equals("writer")) {
            region.writerLock().lock();
            System.out.println("WRITING pid=" + ProcessHandle.current().pid());
            MemorySegment start = Arena.ofAuto().allocate(record.payloadSize());
            record.read(start);
            long v = start.get(ValueLayout.JAVA_LONG, 0);
            while (true) {
                long value = ++v;
                record.write(p -> {
                    for (int i = 0; i < words; i++) {
                        p.setAtIndex(ValueLayout.JAVA_LONG, i, value);
                    }
                });
            }
        }
        AtomicLong reads = new AtomicLong();
        AtomicLong torn = new AtomicLong();
        AtomicLong version = new AtomicLong();
        Thread reader = new Thread(() -> {
            MemorySegment copy = Arena.ofConfined().allocate(record.payloadSize());
            while (true) {
                long ver = record.read(copy);
                long first = copy.getAtIndex(ValueLayout.JAVA_LONG, 0);
                for (int i = 1; i < words; i++) {
                    if (copy.getAtIndex(ValueLayout.JAVA_LONG, i) != first) {
                        torn.incrementAndGet();
                        break;
                    }
                }
                version.set(ver);
                reads.incrementAndGet();
            }
        });
        reader.setDaemon(true);
        reader.start();
        System.out.println("READING pid=" + ProcessHandle.current().pid());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.equals("report")) {
                System.out.println("REPORT reads=" + reads.get() + " torn=" + torn.get() + " version=" + version.get());
            }
        }
        System.exit(0);
    }
}
