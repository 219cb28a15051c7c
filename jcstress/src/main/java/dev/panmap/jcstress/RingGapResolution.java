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
import org.openjdk.jcstress.infra.results.JJJ_Result;

/**
 * Gap resolution against a live producer's claim: a dead producer (entry 1: a stamp, its intent
 * [0, 48), its lock byte free) took [0, 48) with the tail and died before its header. A live producer
 * (entry 0) claims the next record while the consumer (grace 0) resolves the gap. The gap must stop at
 * the live producer's intent (written before its compare-and-set of the tail), or at its header:
 * padding over a live claim would lose its message. The consumer reads in the race, the arbiter after
 * it: the message is delivered exactly once.
 */
@JCStressTest
@Description("Ring gap resolution: a dead producer's gap is padded up to a live producer's claim, never over it")
@Outcome(id = {"5, 0, 1", "0, 5, 1"}, expect = ACCEPTABLE, desc = "the gap padded once; the live message delivered once (by the race or after it)")
@Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "the live message lost (the gap's padding ran over its claim) or never delivered within a second")
@Outcome(expect = FORBIDDEN, desc = "the live claim padded, a message twice, a torn message, the gap not resolved")
@State
public class RingGapResolution extends RingStates.Pair {
    static final long DEAD = RingLayout.PRODUCERS_OFFSET + RingLayout.ENTRY_SIZE;
    long got;

    public RingGapResolution() {
        super(Ring.Kind.MANY_TO_ONE, 2, false, Duration.ZERO, control -> { // our producer: entry 0
            control.set(ValueLayout.JAVA_LONG, DEAD + RingLayout.ENTRY_CLAIM_START_OFFSET, 0);
            control.set(ValueLayout.JAVA_LONG, DEAD + RingLayout.ENTRY_CLAIM_END_OFFSET, 48);
            control.set(ValueLayout.JAVA_LONG, DEAD + RingLayout.ENTRY_STAMP_OFFSET, 0x0000_1234_0000_0001L); // a stamp, no lock: dead
            control.set(ValueLayout.JAVA_LONG, RingLayout.TAIL_OFFSET, 48);
        });
    }

    @Actor
    public void producer() {
        producer.write(1, RingStates.words(5));
    }

    @Actor
    public void consumer(JJJ_Result r) {
        r.r1 = readSome();
    }

    @Arbiter
    public void done(JJJ_Result r) {
        // the live message, if the race did not deliver it: for up to a second, since a look that found
        // the gap unresolvable in the race (the live claim between its intent and its tail) makes the
        // consumer wait before it looks again (1 ms, doubling), longer than 130 reads take
        long deadline = System.nanoTime() + 1_000_000_000L;
        do {
            r.r2 = readSome();
        } while (r.r2 == 0 && r.r1 == 0 && System.nanoTime() < deadline);
        r.r3 = consumer.skippedClaims();
        close();
    }

    private long readSome() {
        got = 0;
        for (int i = 0; i < 130 && got == 0; i++) { // gap resolution looks every 64th empty read
            consumer.read((type, buffer, offset, length) -> got = RingStates.value(buffer, offset, length), 1);
        }
        return got;
    }
}
