package dev.panmap.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.ipc.Ring;
import java.time.Duration;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * A message ring's claim, commit and read with the library's own producer and consumer: a producer
 * writes two messages (four words of 7, then of 9: claim, payload, commit), the consumer reads once.
 * The consumer may see none, the first, or both, each whole; never a torn payload (the commit's
 * header seen before the payload), never the second without the first.
 */
public class RingClaimCommitRead {
    static final String DESCRIPTION = "Ring claim/commit/read: a consumer sees whole messages in order, or none yet";

    abstract static class Base extends RingStates.Pair {
        long first;
        long second;

        Base(Ring.Kind kind, int producers) {
            super(kind, producers, false, Duration.ofHours(1), control -> { });
        }

        void produce() {
            producer.write(1, RingStates.words(7));
            producer.write(1, RingStates.words(9));
        }

        void consume(JJ_Result r) {
            first = 0;
            second = 0;
            consumer.read((type, buffer, offset, length) -> {
                long v = RingStates.value(buffer, offset, length);
                if (first == 0) {
                    first = v;
                } else {
                    second = v;
                }
            }, 2);
            r.r1 = first;
            r.r2 = second;
        }
    }

    @JCStressTest
    @Description(DESCRIPTION)
    @Outcome(id = {"0, 0", "7, 0", "7, 9"}, expect = ACCEPTABLE, desc = "none yet, the first, or both, whole and in order")
    @Outcome(expect = FORBIDDEN, desc = "a torn payload (-1), the second first, or a value never sent")
    @State
    public static class OneToOne extends Base {
        public OneToOne() {
            super(Ring.Kind.ONE_TO_ONE, 1);
        }

        @Actor
        public void producer() {
            produce();
        }

        @Actor
        public void consumer(JJ_Result r) {
            consume(r);
        }

        @Arbiter
        public void done(JJ_Result r) {
            close();
        }
    }

    @JCStressTest
    @Description(DESCRIPTION)
    @Outcome(id = {"0, 0", "7, 0", "7, 9"}, expect = ACCEPTABLE, desc = "none yet, the first, or both, whole and in order")
    @Outcome(expect = FORBIDDEN, desc = "a torn payload (-1), the second first, or a value never sent")
    @State
    public static class ManyToOne extends Base {
        public ManyToOne() {
            super(Ring.Kind.MANY_TO_ONE, 2);
        }

        @Actor
        public void producer() {
            produce();
        }

        @Actor
        public void consumer(JJ_Result r) {
            consume(r);
        }

        @Arbiter
        public void done(JJ_Result r) {
            close();
        }
    }
}
