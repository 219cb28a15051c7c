package dev.panmap.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.ipc.BroadcastReceiver;
import dev.panmap.ipc.BroadcastTransmitter;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * The broadcast buffer's seqlock (tail intent before the record, the copy checked against the intent
 * after it): a transmitter sends 64 messages of 48 bytes into a 1 KiB buffer (three laps) while a
 * receiver, attached before, reads up to 8. It may get any of them, and be lapped on the way; never
 * a torn copy (r1: torn copies handed out; r2: whether it got any message).
 */
@JCStressTest
@Description("Broadcast seqlock: a receiver gets whole messages, or is lapped and says so; never a torn copy")
@Outcome(id = {"0, 0", "0, 1"}, expect = ACCEPTABLE, desc = "no torn copy (none received yet, or some)")
@Outcome(expect = FORBIDDEN, desc = "a torn copy handed out")
@State
public class BroadcastSeqlock {
    final BroadcastTransmitter transmitter;
    final BroadcastReceiver receiver;
    long torn;
    long got;

    public BroadcastSeqlock() {
        long slab = RingStates.slab();
        transmitter = BroadcastTransmitter.create(RingStates.region().region(), slab, 1024);
        receiver = BroadcastReceiver.attach(RingStates.region().region(), slab);
    }

    @Actor
    public void transmitter() {
        for (int v = 1; v <= 64; v++) {
            transmitter.transmit(1, RingStates.words(v - 1));
        }
    }

    @Actor
    public void receiver(JJ_Result r) {
        torn = 0;
        got = 0;
        receiver.read((type, buffer, offset, length) -> {
            if (RingStates.value(buffer, offset, length) < 0) {
                torn++;
            }
            got = 1;
        }, 8);
        r.r1 = torn;
        r.r2 = got;
    }

    @Arbiter
    public void done(JJ_Result r) {
        transmitter.close();
    }
}
