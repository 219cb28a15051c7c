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
 * The sleeping flag and the wake (a Dekker pair: the consumer stores sleeping, fences, re-checks its
 * head record; the producer commits, fences, loads sleeping): a consumer calls {@code await} with a
 * 5 s timeout while a signalling producer commits one message. Either the consumer sees the message
 * before it sleeps, or the producer sees the flag and wakes it: it never sleeps through the commit
 * (r1 = 1: it slept 4 s or more, a lost wake-up). r2: whether the message was ready when it returned.
 */
@JCStressTest
@Description("Ring sleeping flag and wake: a consumer never sleeps through a commit")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the consumer returned at once or was woken, the message ready")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a lost wake-up: the consumer slept through the commit to its timeout")
@Outcome(expect = FORBIDDEN, desc = "woken without the message ready")
@State
public class RingSleepWake extends RingStates.Pair {
    public RingSleepWake() {
        super(Ring.Kind.ONE_TO_ONE, 1, true, Duration.ofHours(1), control -> { });
    }

    @Actor
    public void producer() {
        producer.write(1, RingStates.words(3));
    }

    @Actor
    public void consumer(JJ_Result r) {
        long t0 = System.nanoTime();
        boolean ready = false;
        while (!ready && System.nanoTime() - t0 < 4_000_000_000L) { // a spurious wake-up just sleeps again
            ready = consumer.await(5_000_000_000L);
        }
        r.r1 = System.nanoTime() - t0 >= 4_000_000_000L ? 1 : 0;
        r.r2 = ready ? 1 : 0;
    }

    @Arbiter
    public void done(JJ_Result r) {
        close();
    }
}
