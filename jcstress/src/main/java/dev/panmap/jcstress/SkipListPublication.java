package dev.panmap.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.Addressing;
import dev.panmap.structures.RegionHeap;
import dev.panmap.structures.SkipList;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * {@link SkipList}: the writer puts 10 -> 100 and then 20 -> 200 (each node filled, then linked
 * bottom-up with release stores; the levels come from the list's own generator, so they vary from
 * state to state); a lock-free reader asks {@code get(20)} and {@code floorKey(25)}. A found key must
 * carry its value, and floorKey must return a key that was put: never the 0 of an unfilled node.
 */
public final class SkipListPublication {
    private SkipListPublication() {}

    static final long MISSING = -1;

    abstract static class Base {
        private final SkipList list;
        private final Writers<SkipList> writer;

        Base(TestRegion r) {
            RegionHeap heap = RegionHeap.create(r.region(), r.slab(), r.slabSize());
            this.list = SkipList.create(heap);
            this.writer = new Writers<>(r, list.root(), SkipList::attach);
        }

        final void put() {
            SkipList w = writer.get();
            w.put(10, 100, MISSING);
            w.put(20, 200, MISSING);
        }

        final void read(JJ_Result res) {
            res.r1 = list.get(20, MISSING);
            res.r2 = list.floorKey(25, MISSING);
        }
    }

    @JCStressTest
    @Description("SkipList put/get/floorKey, DIRECT region: found keys carry their values, floorKey returns a key that was put")
    @Outcome(id = "-1, -1", expect = ACCEPTABLE, desc = "nothing put yet")
    @Outcome(id = "-1, 10", expect = ACCEPTABLE, desc = "10 put; 20 not yet")
    @Outcome(id = "-1, 20", expect = ACCEPTABLE, desc = "20 linked between the two reads")
    @Outcome(id = "200, 20", expect = ACCEPTABLE, desc = "both put")
    @Outcome(id = "200, 10", expect = ACCEPTABLE, desc = "get saw 20, floorKey's walk a level-0 link read before it (plain loads)")
    @Outcome(id = "200, -1", expect = ACCEPTABLE, desc = "get saw 20, floorKey's walk links read before both (plain loads)")
    @Outcome(expect = FORBIDDEN, desc = "a found key with a value never put, or floorKey returning a key never put (0: a node linked before it was filled)")
    @State
    public static class Direct extends Base {
        static final class Holder {
            static final TestRegion R = TestRegion.create(Addressing.DIRECT, 1024);
        }

        public Direct() {
            super(Holder.R);
        }

        @Actor
        public void writer() {
            put();
        }

        @Actor
        public void reader(JJ_Result res) {
            read(res);
        }
    }

    @JCStressTest
    @Description("SkipList put/get/floorKey, OFFSET region: found keys carry their values, floorKey returns a key that was put")
    @Outcome(id = "-1, -1", expect = ACCEPTABLE, desc = "nothing put yet")
    @Outcome(id = "-1, 10", expect = ACCEPTABLE, desc = "10 put; 20 not yet")
    @Outcome(id = "-1, 20", expect = ACCEPTABLE, desc = "20 linked between the two reads")
    @Outcome(id = "200, 20", expect = ACCEPTABLE, desc = "both put")
    @Outcome(id = "200, 10", expect = ACCEPTABLE, desc = "get saw 20, floorKey's walk a level-0 link read before it (plain loads)")
    @Outcome(id = "200, -1", expect = ACCEPTABLE, desc = "get saw 20, floorKey's walk links read before both (plain loads)")
    @Outcome(expect = FORBIDDEN, desc = "a found key with a value never put, or floorKey returning a key never put (0: a node linked before it was filled)")
    @State
    public static class Offset extends Base {
        static final class Holder {
            static final TestRegion R = TestRegion.create(Addressing.OFFSET, 1024);
        }

        public Offset() {
            super(Holder.R);
        }

        @Actor
        public void writer() {
            put();
        }

        @Actor
        public void reader(JJ_Result res) {
            read(res);
        }
    }
}
