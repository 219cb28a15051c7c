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
 * after it): a transmitter sends 24 messages of 48 bytes into a 1 KiB buffer (more than a lap) while
 * a receiver, attached before, reads one. The receiver may get nothing yet, or one message whole
 * (any of them: it may have been lapped and jumped to the latest); never a torn copy.
 */
@JCStressTest
@Description("Broadcast seqlock: a receiver gets whole messages, or is lapped and says so; never a torn copy")
@Outcome(id = {"0, 0", "1, .*"}, expect = ACCEPTABLE, desc = "nothing yet, or one whole message (r2: its value)")
@Outcome(id = "-1, .*", expect = FORBIDDEN, desc = "a torn copy handed out")
@Outcome(expect = FORBIDDEN, desc = "anything else")
@State
public class BroadcastSeqlock {
    final BroadcastTransmitter transmitter;
    final BroadcastReceiver receiver;
    long got;
    long value;

    public BroadcastSeqlock() {
        long slab = RingStates.slab();
        transmitter = BroadcastTransmitter.create(RingStates.region().region(), slab, 1024);
        receiver = BroadcastReceiver.attach(RingStates.region().region(), slab);
    }

    @Actor
    public void transmitter() {
        for (int v = 1; v <= 24; v++) {
            transmitter.transmit(1, RingStates.words(v));
        }
    }

    @Actor
    public void receiver(JJ_Result r) {
        got = 0;
        value = 0;
        receiver.read((type, buffer, offset, length) -> {
            value = RingStates.value(buffer, offset, length);
            got = value < 0 ? -1 : 1;
        }, 1);
        r.r1 = got;
        r.r2 = value;
    }

    @Arbiter
    public void done(JJ_Result r) {
        transmitter.close();
    }
}
