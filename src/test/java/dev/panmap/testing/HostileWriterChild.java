package dev.panmap.testing;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A process with write access that does not play by the rules (issue 20's hostile writer): it maps a
 * region and rewrites 8-byte words of its first {@code USED} data bytes with values chosen to steer a
 * reader wrong ({@link #mutate}), now and then putting the pristine bytes back so that the structures
 * keep coming back to life under the readers. It never takes the writer lock.
 *
 * <pre>
 * args: NAME SEED USED HOT...   (HOT: data offsets of the fields that steer readers, aimed at more often)
 * prints WRITING once it runs; on "stop" (stdin) prints WROTE N and exits
 * </pre>
 */
public final class HostileWriterChild {
    private HostileWriterChild() {}

    public static void main(String[] args) throws Exception {
        SharedRegion region = SharedRegion.open(args[0], OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true));
        SplittableRandom rng = new SplittableRandom(Long.decode(args[1]));
        long used = Long.parseLong(args[2]);
        long[] hot = Arrays.stream(args, 3, args.length).mapToLong(Long::parseLong).toArray();
        MemorySegment data = region.segment();
        MemorySegment pristine = Arena.global().allocate(used);
        MemorySegment.copy(data, 0, pristine, 0, used);
        AtomicBoolean stop = new AtomicBoolean();
        Thread stdin = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                while (!"stop".equals(in.readLine())) {
                    // wait for it (null: the parent is gone)
                }
            } catch (java.io.IOException ignored) {
                // the parent is gone
            }
            stop.set(true);
        });
        stdin.setDaemon(true);
        stdin.start();
        System.out.println("WRITING");
        long writes = 0;
        while (!stop.get()) {
            if (rng.nextInt(32) == 0) {
                MemorySegment.copy(pristine, 0, data, 0, used);
            }
            mutate(data, region.references().toRef(0), used, hot, rng, null);
            writes++;
        }
        System.out.println("WROTE " + writes);
        System.exit(0);
    }

    /**
     * Rewrites one to four 8-aligned words of {@code [0, used)}, half of them at a hot offset (or the
     * word after it), with 0, -1, the extremes, a length of 0x7ff00000, a reference before, into or past
     * the data area ({@code refBase}: the reference of data offset 0), misaligned, to itself, or the old
     * value made odd (a sequence being written); {@code what}, unless null, gets what it did, e.g.
     * {@code [4160] := 0x0}.
     */
    public static void mutate(MemorySegment data, long refBase, long used, long[] hot, SplittableRandom rng, StringBuilder what) {
        int n = 1 + rng.nextInt(4);
        for (int i = 0; i < n; i++) {
            long at = hot.length > 0 && rng.nextBoolean() ? hot[rng.nextInt(hot.length)] + 8L * rng.nextInt(2) : 8L * rng.nextInt((int) (used / 8));
            if (at + 8 > used) {
                at = used - 8;
            }
            long old = data.get(ValueLayout.JAVA_LONG, at);
            long value = switch (rng.nextInt(14)) {
                case 0 -> 0;
                case 1 -> -1;
                case 2 -> Long.MIN_VALUE;
                case 3 -> Long.MAX_VALUE;
                case 4 -> 0x7ff0_0000L;
                case 5 -> refBase - 8;
                case 6 -> refBase + data.byteSize();
                case 7 -> refBase + data.byteSize() - 8;
                case 8 -> refBase + 8L * rng.nextInt((int) (used / 8)) + 4; // misaligned
                case 9 -> refBase + at; // to itself: a cycle of one
                case 10 -> refBase + hot[rng.nextInt(hot.length)]; // to a root: a cycle through a header
                case 11 -> old | 1; // odd
                case 12 -> old + (rng.nextBoolean() ? 1 : -1) * (1L << rng.nextInt(63));
                default -> rng.nextLong();
            };
            data.set(ValueLayout.JAVA_LONG, at, value);
            if (what != null) {
                what.append(what.isEmpty() ? "" : " ").append('[').append(at).append("] := 0x").append(Long.toHexString(value));
            }
        }
    }
}
