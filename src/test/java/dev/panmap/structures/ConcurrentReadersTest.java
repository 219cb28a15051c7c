package dev.panmap.structures;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.References;
import dev.panmap.WriterLock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Readers without the lock while a writer writes: they never see a half-made node or slot. Every
 * value is a function of its key (or position), so a reader can check what it sees.
 */
class ConcurrentReadersTest {
    private static final int N = 20_000;

    private static long valueOf(long key) {
        return key * 31 + 7;
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void readersSeeOnlyWholeEntries(Addressing addressing) throws Exception {
        try (Regions r = Regions.create(addressing, 8 << 20)) {
            RegionHeap heap = r.heap();
            NodeList list = NodeList.create(heap, 32);
            HashIndex hash = HashIndex.create(heap, N);
            SkipList skip = SkipList.create(heap);
            AtomicBoolean done = new AtomicBoolean();
            ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Thread reader = new Thread(() -> {
                    while (!done.get() && problems.isEmpty()) {
                        long count = 0;
                        for (long n = list.first(); n != References.NULL; n = list.next(n)) {
                            if (list.value(n) != valueOf(++count)) {
                                problems.add("list node " + count + " holds " + list.value(n));
                            }
                        }
                        for (long k = 1; k <= N; k += 97) {
                            long v = hash.get(k, -1);
                            if (v != -1 && v != valueOf(k)) {
                                problems.add("hash " + k + " -> " + v);
                            }
                            long s = skip.get(k, -1);
                            if (s != -1 && s != valueOf(k)) {
                                problems.add("skip " + k + " -> " + s);
                            }
                        }
                        long previous = Long.MIN_VALUE;
                        for (long n = skip.ceilingNode(Long.MIN_VALUE); n != References.NULL; n = skip.nextNode(n)) {
                            if (skip.key(n) <= previous || skip.value(n) != valueOf(skip.key(n))) {
                                problems.add("skip order/value at key " + skip.key(n));
                            }
                            previous = skip.key(n);
                        }
                    }
                });
                reader.start();
                readers.add(reader);
            }
            for (long k = 1; k <= N; k++) { // the writer takes the lock per entry, as a real one would
                long key = (k * 7919) % N + 1; // every key once, in scattered order
                try (WriterLock.Held held = r.region().writerLock().hold()) {
                    list.add(valueOf(k));
                    hash.put(key, valueOf(key), -1);
                    skip.put(key, valueOf(key), -1);
                }
            }
            done.set(true);
            for (Thread reader : readers) {
                reader.join();
            }
            assertThat(problems).isEmpty();
            assertThat(list.size()).isEqualTo(N);
            assertThat(hash.size()).isEqualTo(N);
            assertThat(skip.size()).isEqualTo(N);
            assertThat(skip.floorKey(N + 10, -1)).isEqualTo(N);
        }
    }
}
