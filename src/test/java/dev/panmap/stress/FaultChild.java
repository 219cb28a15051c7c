package dev.panmap.stress;

import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.LockSupport;

/**
 * The processes of {@link FaultSuiteTest}, killed with SIGKILL at random points. Args {@code ROLE NAME}.
 * <ul>
 *   <li>{@code writer}: under the writer lock, writes version after version of the record at data
 *       offset 0 (a payload whose every word derives from its first, with a checksum), and every
 *       {@value #GROW_EVERY} versions grows the region by {@value #GROW_STEP} bytes while it can (with a
 *       third argument {@code standby}: attaches, prints {@code READY} and waits for a line first);
 *       prints {@code PUB v} after version {@code v} is published (so every printed version is
 *       published) and {@code GREW size} after a growth.</li>
 *   <li>{@code reader}: attached, reads the record flat out, checks every copy whole (a torn copy is an
 *       anomaly) and versions never going back (a published write lost is an anomaly), and follows the
 *       region's growth; prints {@code PROGRESS reads anomalies} twice a second and, on the line
 *       {@code stop}, {@code RESULT reads anomalies maxVersion} and exits.</li>
 *   <li>{@code attacher}: opens and closes the region over and over (to be killed mid-attach), printing
 *       {@code CYCLE n}.</li>
 * </ul>
 */
public final class FaultChild {
    private FaultChild() {}

    static final int WORDS = 8;
    static final int GROW_EVERY = 50;
    static final long GROW_STEP = 64 * 1024;

    public static void main(String[] args) throws Exception {
        String role = args[0];
        String name = args[1];
        switch (role) {
            case "writer" -> writer(name, args);
            case "reader" -> reader(name);
            case "attacher" -> attacher(name);
            default -> throw new IllegalArgumentException(role);
        }
    }

    /** {@return word {@code i} of the payload of version {@code v}} (word {@code WORDS-1} is the checksum) */
    static long word(long v, int i) {
        return v * 0x9E37_79B9_7F4A_7C15L + i * 0xBF58_476D_1CE4_E5B9L;
    }

    static long checksum(long v) {
        long x = 0;
        for (int i = 0; i < WORDS - 1; i++) {
            x ^= Long.rotateLeft(word(v, i), i);
        }
        return x;
    }

    private static void writer(String name, String[] args) throws Exception {
        try (SharedRegion region = SharedRegion.open(name)) {
            SeqRecord record = SeqRecord.attach(region, 0);
            System.out.println("READY");
            if (args.length > 2 && args[2].equals("standby")) { // started ahead, attached: writes when told
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            }
            long max = region.reservedSpan() - region.dataOffset();
            while (true) {
                try (var held = region.writerLock().hold()) {
                    long v = record.version() + 1;
                    record.write(p -> {
                        for (int i = 0; i < WORDS - 1; i++) {
                            p.setAtIndex(ValueLayout.JAVA_LONG, i, word(v, i));
                        }
                        p.setAtIndex(ValueLayout.JAVA_LONG, WORDS - 1, checksum(v));
                    });
                    System.out.println("PUB " + record.version());
                    if (v % GROW_EVERY == 0 && region.size() + GROW_STEP <= max) {
                        region.grow(region.size() + GROW_STEP);
                        System.out.println("GREW " + region.size());
                    }
                }
            }
        }
    }

    private static void reader(String name) throws Exception {
        try (SharedRegion region = SharedRegion.open(name); Arena arena = Arena.ofConfined()) {
            SeqRecord record = SeqRecord.attach(region, 0);
            MemorySegment copy = arena.allocate(record.payloadSize(), 8);
            Thread stdin = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                    while (!"stop".equals(in.readLine())) {
                        // wait for the word
                    }
                } catch (Exception ignored) {
                    // parent gone
                }
            });
            System.out.println("READY");
            long reads = 0;
            long anomalies = 0;
            long last = 0;
            long nextReport = System.nanoTime();
            while (stdin.isAlive()) {
                long v = record.read(copy);
                reads++;
                if (v < last) {
                    anomalies++;
                    System.out.println("ANOMALY version went back from " + last + " to " + v);
                }
                last = v;
                if (v > 0) {
                    boolean whole = copy.getAtIndex(ValueLayout.JAVA_LONG, WORDS - 1) == checksum(v);
                    for (int i = 0; i < WORDS - 1 && whole; i++) {
                        whole = copy.getAtIndex(ValueLayout.JAVA_LONG, i) == word(v, i);
                    }
                    if (!whole) {
                        anomalies++;
                        System.out.println("ANOMALY torn or foreign copy of version " + v);
                    }
                }
                if ((reads & 1023) == 0) {
                    MemorySegment data = region.segment(); // follows growth
                    data.get(ValueLayout.JAVA_LONG, data.byteSize() - 8); // the grown end is mapped here
                    LockSupport.parkNanos(100_000); // leave most of the two cores to the writers and the JVMs starting
                    if (System.nanoTime() - nextReport > 0) {
                        System.out.println("PROGRESS " + reads + " " + anomalies);
                        nextReport = System.nanoTime() + 500_000_000L;
                    }
                }
            }
            System.out.println("RESULT " + reads + " " + anomalies + " " + last);
        }
    }

    private static void attacher(String name) {
        for (long n = 1; ; n++) {
            try (SharedRegion region = SharedRegion.open(name)) {
                region.segment();
            }
            System.out.println("CYCLE " + n);
        }
    }
}
