package dev.panmap.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.Addressing;
import dev.panmap.structures.HashIndex;
import dev.panmap.structures.RegionHeap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.J_Result;

/**
 * {@link HashIndex}: the writer puts a new key (value first, then the key with a release store); a
 * lock-free reader that finds the key must find its value, never the empty slot's 0. Both read
 * paths: DIRECT (absolute addresses through the all-memory segment) and OFFSET.
 */
public final class HashIndexPublication {
    private HashIndexPublication() {}

    static final long KEY = 7;
    static final long VALUE = 42;
    static final long MISSING = -1;

    abstract static class Base {
        private final HashIndex index;
        private final Writers<HashIndex> writer;

        Base(TestRegion r) {
            RegionHeap heap = RegionHeap.create(r.region(), r.slab(), r.slabSize());
            this.index = HashIndex.create(heap, 1);
            this.writer = new Writers<>(r, index.root(), HashIndex::attach);
        }

        final void put() {
            writer.get().put(KEY, VALUE, MISSING);
        }

        final long get() {
            return index.get(KEY, MISSING);
        }
    }

    @JCStressTest
    @Description("HashIndex put/get, DIRECT region: a found key has its value")
    @Outcome(id = "-1", expect = ACCEPTABLE, desc = "not put yet: missing")
    @Outcome(id = "42", expect = ACCEPTABLE, desc = "put: the key with its value")
    @Outcome(expect = FORBIDDEN, desc = "the key found with a value never put (0: the key was visible before its value)")
    @State
    public static class Direct extends Base {
        static final class Holder {
            static final TestRegion R = TestRegion.create(Addressing.DIRECT, 256);
        }

        public Direct() {
            super(Holder.R);
        }

        @Actor
        public void writer() {
            put();
        }

        @Actor
        public void reader(J_Result res) {
            res.r1 = get();
        }
    }

    @JCStressTest
    @Description("HashIndex put/get, OFFSET region: a found key has its value")
    @Outcome(id = "-1", expect = ACCEPTABLE, desc = "not put yet: missing")
    @Outcome(id = "42", expect = ACCEPTABLE, desc = "put: the key with its value")
    @Outcome(expect = FORBIDDEN, desc = "the key found with a value never put (0: the key was visible before its value)")
    @State
    public static class Offset extends Base {
        static final class Holder {
            static final TestRegion R = TestRegion.create(Addressing.OFFSET, 256);
        }

        public Offset() {
            super(Holder.R);
        }

        @Actor
        public void writer() {
            put();
        }

        @Actor
        public void reader(J_Result res) {
            res.r1 = get();
        }
    }
}
