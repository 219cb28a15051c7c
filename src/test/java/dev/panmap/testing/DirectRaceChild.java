package dev.panmap.testing;

import dev.panmap.Addressing;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.ReferenceChecking;
import dev.panmap.structures.RegionHeap;
import dev.panmap.structures.SkipList;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A child JVM (C2, its own process so that a crash is an exit status, not a dead test run) that
 * races readers against close + reopen at the same addresses: per round it fills region R1 with a
 * list and a skip list, starts readers chasing through it, closes R1, creates R2 of the same size
 * (DIRECT: at the same base; OFFSET: panmap places it in the reservation R1 left) and fills R2 with
 * garbage: random words and addresses inside R1's range, aligned or not. Every reader must end with
 * IllegalStateException (the region is closed) or a CORRUPT_REGION RegionException (it read a bad
 * reference), never a fault.
 *
 * <p>Arguments: {@code ROUNDS CHECKED|UNCHECKED DIRECT|OFFSET NAME-PREFIX}. Prints
 * {@code ROUND i list=EXC skip=EXC} per round and {@code DONE} at the end.
 */
public final class DirectRaceChild {
    private static final long BASE = 0x6100_0000_0000L;

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        ReferenceChecking checking = ReferenceChecking.valueOf(args[1]);
        Addressing addressing = Addressing.valueOf(args[2]);
        String prefix = args[3];
        SplittableRandom random = new SplittableRandom(42);
        for (int round = 0; round < rounds; round++) {
            String r1Name = prefix + "-a" + round;
            String r2Name = prefix + "-b" + round;
            RegionOptions options = RegionOptions.defaults().size(1 << 20).addressing(addressing)
                .baseAddress(addressing == Addressing.DIRECT ? BASE : 0);
            SharedRegion r1 = SharedRegion.create(r1Name, options);
            SharedRegion.remove(r1Name);
            RegionHeap heap = RegionHeap.create(r1, 0, r1.size());
            NodeList created = NodeList.create(heap, 32);
            SkipList skipCreated = SkipList.create(heap);
            try (WriterLock.Held held = r1.writerLock().hold()) {
                for (int i = 0; i < 8_000; i++) {
                    created.add(i);
                    skipCreated.put(random.nextLong(1, 1L << 40), i, -1);
                }
            }
            NodeList list = NodeList.attach(r1, created.root(), checking);
            SkipList skip = SkipList.attach(r1, skipCreated.root(), checking);
            AtomicReference<Throwable> listEnd = new AtomicReference<>();
            AtomicReference<Throwable> skipEnd = new AtomicReference<>();
            Thread chaser = new Thread(() -> {
                try {
                    for (long n = list.first(); ; ) {
                        n = list.advance(n, 2_000_000); // milliseconds per call: mid-call whenever the close comes
                        list.sum();
                    }
                } catch (Throwable t) {
                    listEnd.set(t);
                }
            });
            Thread seeker = new Thread(() -> {
                try {
                    for (long k = 0; ; k += 0x9E3779B9L) {
                        skip.floorKey(k & ((1L << 40) - 1), -1);
                    }
                } catch (Throwable t) {
                    skipEnd.set(t);
                }
            });
            chaser.start();
            seeker.start();
            Thread.sleep(round < 3 ? 300 : 20); // the first rounds let C2 compile the loops
            r1.close();
            if (round % 2 == 1) {
                Thread.sleep(5); // readers still inside their call meet the closed range (zeros, or a fault if it were unmapped)
            }
            SharedRegion r2 = SharedRegion.create(r2Name, options);
            SharedRegion.remove(r2Name);
            if (r2.baseAddress() != r1.baseAddress()) {
                throw new AssertionError("R2 was not mapped at R1's base: 0x" + Long.toHexString(r2.baseAddress()));
            }
            MemorySegment data = r2.segment();
            long lo = r2.baseAddress() + r2.dataOffset();
            for (long off = 0; off + 8 <= data.byteSize(); off += 8) {
                long word = switch (random.nextInt(4)) {
                    case 0 -> random.nextLong();
                    case 1 -> lo + random.nextLong(data.byteSize());             // anywhere in the range, any alignment
                    case 2 -> lo + (random.nextLong(data.byteSize()) & ~7L);     // aligned, inside
                    default -> lo + data.byteSize() - random.nextInt(1, 64);     // just short of the end
                };
                data.set(ValueLayout.JAVA_LONG, off, word);
            }
            chaser.join(60_000);
            seeker.join(60_000);
            if (chaser.isAlive() || seeker.isAlive()) {
                throw new AssertionError("a reader did not end within 60 s after the close (round " + round + ")");
            }
            System.out.println("ROUND " + round + " list=" + describe(listEnd.get()) + " skip=" + describe(skipEnd.get()));
            r2.close();
        }
        System.out.println("DONE");
    }

    private static String describe(Throwable t) {
        if (t instanceof RegionException e) {
            return "RegionException:" + e.kind();
        }
        return t == null ? "none" : t.getClass().getSimpleName();
    }
}
