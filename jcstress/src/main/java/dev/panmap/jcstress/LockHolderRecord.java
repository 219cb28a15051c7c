package dev.panmap.jcstress;

import static dev.panmap.internal.RegionLayout.LOCK_HOLDER_OFFSET;
import static dev.panmap.internal.RegionLayout.LOCK_HOLDER_START_OFFSET;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.Addressing;
import dev.panmap.internal.Header;
import dev.panmap.internal.ProcessStamp;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The writer-lock holder record: one 8-byte {@link ProcessStamp} at {@code LOCK_HOLDER_OFFSET},
 * written as {@code WriterLock} writes it (the informational start time first, then the stamp with
 * a release store) for holder A and then holder B; a reader loads it as tools do (volatile). Since
 * pid and start tag share one aligned word, a reader can never pair A's pid with B's start time: the
 * test documents that contract (the header layout 2 change) rather than expecting to catch anything.
 */
@JCStressTest
@Description("Lock holder stamp: a reader never pairs one holder's pid with another's start time")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "no holder recorded yet")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "holder A: A's pid with A's start tag")
@Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "holder B: B's pid with B's start tag")
@Outcome(id = {"1, 2", "2, 1"}, expect = FORBIDDEN, desc = "one holder's pid paired with the other's start tag")
@Outcome(expect = FORBIDDEN, desc = "a pid or start tag that neither holder wrote")
@State
public class LockHolderRecord {
    static final class Holder {
        static final TestRegion R = TestRegion.create(Addressing.OFFSET, 256);
    }

    private final Header header;

    public LockHolderRecord() {
        header = new Header(Holder.R.segment(Holder.R.slab(true)));
    }

    @Actor
    public void holders() {
        header.putLong(LOCK_HOLDER_START_OFFSET, Processes.START_A);
        header.putLongRelease(LOCK_HOLDER_OFFSET, Processes.STAMP_A);
        header.putLong(LOCK_HOLDER_START_OFFSET, Processes.START_B);
        header.putLongRelease(LOCK_HOLDER_OFFSET, Processes.STAMP_B);
    }

    @Actor
    public void reader(II_Result r) {
        long stamp = header.getLongVolatile(LOCK_HOLDER_OFFSET);
        int pid = ProcessStamp.pid(stamp);
        int tag = ProcessStamp.startTag(stamp);
        r.r1 = stamp == 0 ? 0 : pid == Processes.PID_A ? 1 : pid == Processes.PID_B ? 2 : 3;
        r.r2 = stamp == 0 ? 0 : tag == ProcessStamp.startTag(Processes.STAMP_A) ? 1 : tag == ProcessStamp.startTag(Processes.STAMP_B) ? 2 : 3;
    }
}
