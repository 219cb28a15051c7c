package dev.panmap.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.Addressing;
import dev.panmap.References;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.RegionHeap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * {@link NodeList}: the writer adds nodes holding 1 and then 2 (each node filled, then linked with a
 * release store); a lock-free reader walks {@code first()}, {@code value}, {@code next}, {@code value}.
 * A node the reader reaches must hold its value: never the 0 of a node linked before it was filled.
 */
public final class NodeListPublication {
    private NodeListPublication() {}

    static final long NONE = -1;

    abstract static class Base {
        private final NodeList list;
        private final Writers<NodeList> writer;

        Base(TestRegion r) {
            RegionHeap heap = RegionHeap.create(r.region(), r.slab(), r.slabSize());
            this.list = NodeList.create(heap, 16);
            this.writer = new Writers<>(r, list.root(), NodeList::attach);
        }

        final void add() {
            NodeList w = writer.get();
            w.add(1);
            w.add(2);
        }

        final void read(JJ_Result res) {
            long first = list.first();
            if (first == References.NULL) {
                res.r1 = NONE;
                res.r2 = NONE;
                return;
            }
            res.r1 = list.value(first);
            long second = list.next(first);
            res.r2 = second == References.NULL ? NONE : list.value(second);
        }
    }

    @JCStressTest
    @Description("NodeList add/first/next/value, DIRECT region: every reachable node holds its value")
    @Outcome(id = "-1, -1", expect = ACCEPTABLE, desc = "empty: nothing linked yet")
    @Outcome(id = "1, -1", expect = ACCEPTABLE, desc = "the first node, whole; the second not linked yet")
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "both nodes, whole")
    @Outcome(expect = FORBIDDEN, desc = "a linked node whose value is not written yet (0), or a value never added")
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
            add();
        }

        @Actor
        public void reader(JJ_Result res) {
            read(res);
        }
    }

    @JCStressTest
    @Description("NodeList add/first/next/value, OFFSET region: every reachable node holds its value")
    @Outcome(id = "-1, -1", expect = ACCEPTABLE, desc = "empty: nothing linked yet")
    @Outcome(id = "1, -1", expect = ACCEPTABLE, desc = "the first node, whole; the second not linked yet")
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "both nodes, whole")
    @Outcome(expect = FORBIDDEN, desc = "a linked node whose value is not written yet (0), or a value never added")
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
            add();
        }

        @Actor
        public void reader(JJ_Result res) {
            read(res);
        }
    }
}
