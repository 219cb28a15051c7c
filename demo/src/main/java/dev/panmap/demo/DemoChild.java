package dev.panmap.demo;

import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A secondary process of the demo, started by {@link Demo} in its own JVM:
 * {@code DemoChild reader|writer DIRECT_NAME OFFSET_NAME}. It attaches to both regions, prints
 * {@code ATTACHED pid=P direct=0x... offset=0x...} and then:
 * <ul>
 * <li>reader: prints {@code SAW N TEXT} for each new update of the DIRECT region's message;</li>
 * <li>writer: follows commands on stdin, {@code stream COUNT MILLIS} (answers {@code WROTE N} each
 *     and {@code STREAMED}) and {@code hold} (takes the writer lock, answers {@code HOLDING}, never
 *     lets go).</li>
 * </ul>
 * Either ends when its stdin closes, so a secondary never outlives the demo.
 */
public final class DemoChild {
    private DemoChild() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 3 || !(args[0].equals("reader") || args[0].equals("writer"))) {
            System.err.println("usage: DemoChild reader|writer DIRECT_NAME OFFSET_NAME");
            System.exit(2);
        }
        long pid = ProcessHandle.current().pid();
        try (SharedRegion direct = SharedRegion.open(args[1]); SharedRegion offset = SharedRegion.open(args[2])) {
            System.out.println("ATTACHED pid=" + pid + " direct=0x" + Long.toHexString(direct.baseAddress())
                + " offset=0x" + Long.toHexString(offset.baseAddress()));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            SeqRecord message = Message.attach(direct);
            if (args[0].equals("reader")) {
                Thread reader = Thread.ofPlatform().daemon().name("reader").start(() -> read(message));
                while (in.readLine() != null) {
                    // nothing to do: the reader thread prints; end of input ends the process
                }
                reader.interrupt();
            } else {
                write(direct, message, in, pid);
            }
        }
    }

    private static void read(SeqRecord message) {
        long seenVersion = 0;
        long seenUpdate = 0;
        while (!Thread.currentThread().isInterrupted()) {
            if (message.version() != seenVersion) { // the version counts writes: cheap to poll
                seenVersion = message.version();
                Message.Snapshot s = Message.read(message);
                if (s.update() != seenUpdate) {
                    seenUpdate = s.update();
                    System.out.println("SAW " + s.update() + " " + s.text() + (s.intact() ? "" : " (checksum mismatch)"));
                }
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void write(SharedRegion region, SeqRecord message, BufferedReader in, long pid) throws IOException, InterruptedException {
        WriterLock lock = region.writerLock();
        for (String line; (line = in.readLine()) != null; ) {
            String[] a = line.trim().split("\\s+");
            switch (a[0]) {
                case "stream" -> {
                    int count = Integer.parseInt(a[1]);
                    long pause = Long.parseLong(a[2]);
                    long first = Message.read(message).update() + 1;
                    for (long n = first; n < first + count; n++) {
                        try (WriterLock.Held held = lock.hold()) {
                            Message.write(message, n, "update " + n + " from the writer (pid " + pid + ")");
                        }
                        System.out.println("WROTE " + n);
                        Thread.sleep(pause);
                    }
                    System.out.println("STREAMED");
                }
                case "hold" -> {
                    lock.lock(); // and never unlock: the demo kills this process while it holds the lock
                    System.out.println("HOLDING");
                }
                default -> System.out.println("ERROR unknown command " + a[0]);
            }
        }
    }
}
