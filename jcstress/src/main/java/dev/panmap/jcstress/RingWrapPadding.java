package dev.panmap.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.ipc.Ring;
import dev.panmap.ipc.RingLayout;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * The wrap: the ring's positions start 16 bytes before the end of the first lap, so the producer's
 * 40-byte record does not fit: it writes a padding record to the end and the record at index 0 (a
 * one-to-one producer after its tail store, a many-to-one one after its compare-and-set). The
 * consumer reads twice: it may see nothing yet, the padding alone (its head at the lap's end), or the
 * message whole; never a torn message, never a head past the tail.
 */
public class RingWrapPadding {
    static final String DESCRIPTION = "Ring wrap: padding then a record at 0; the consumer sees whole messages, its head never past the tail";
    static final long NEAR = 1024 - 16;

    abstract static class Base extends RingStates.Pair {
        long got;

        Base(Ring.Kind kind, int producers) {
            super(kind, producers, false, Duration.ofHours(1), control -> {
                control.set(ValueLayout.JAVA_LONG, RingLayout.TAIL_OFFSET, NEAR);
                control.set(ValueLayout.JAVA_LONG, RingLayout.HEAD_OFFSET, NEAR);
                control.set(ValueLayout.JAVA_LONG, RingLayout.HEAD_INTENT_OFFSET, NEAR);
            });
        }

        void consume(JJ_Result r) {
            got = 0;
            for (int i = 0; i < 2 && got == 0; i++) {
                consumer.read((type, buffer, offset, length) -> got = RingStates.value(buffer, offset, length), 1);
            }
            r.r1 = got;
            r.r2 = consumer.position() - NEAR;
        }

        void check(JJ_Result r) {
            if (ring.headPosition() > ring.tailPosition()) {
                r.r2 = -1;
            }
            close();
        }
    }

    @JCStressTest
    @Description(DESCRIPTION)
    @Outcome(id = {"0, 0", "0, 16", "5, 56"}, expect = ACCEPTABLE, desc = "nothing yet, the padding alone, the message whole")
    @Outcome(expect = FORBIDDEN, desc = "a torn message, a head past the tail (-1), a position no record ends at")
    @State
    public static class OneToOne extends Base {
        public OneToOne() {
            super(Ring.Kind.ONE_TO_ONE, 1);
        }

        @Actor
        public void producer() {
            producer.write(1, RingStates.words(5));
        }

        @Actor
        public void consumer(JJ_Result r) {
            consume(r);
        }

        @Arbiter
        public void done(JJ_Result r) {
            check(r);
        }
    }

    @JCStressTest
    @Description(DESCRIPTION)
    @Outcome(id = {"0, 0", "0, 16", "5, 56"}, expect = ACCEPTABLE, desc = "nothing yet, the padding alone, the message whole")
    @Outcome(expect = FORBIDDEN, desc = "a torn message, a head past the tail (-1), a position no record ends at")
    @State
    public static class ManyToOne extends Base {
        public ManyToOne() {
            super(Ring.Kind.MANY_TO_ONE, 2);
        }

        @Actor
        public void producer() {
            producer.write(1, RingStates.words(5));
        }

        @Actor
        public void consumer(JJ_Result r) {
            consume(r);
        }

        @Arbiter
        public void done(JJ_Result r) {
            check(r);
        }
    }
}
