package dev.panmap.jcstress;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.Addressing;
import dev.panmap.SeqRecord;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJJ_Result;

/**
 * {@link SeqRecord}: the writer publishes versions 1, 2 and 3 of a two-word payload {@code (a, ~a)};
 * a reader copies whatever is published. Readers must get a whole version, labelled with its own
 * version number; never a mix of two writes, never a half-written slot. Version 3 goes into the slot
 * of version 1, so a reader still copying version 1 when it lands is lapped: only its sequence
 * re-check keeps it from returning a mix.
 */
@JCStressTest
@Description("SeqRecord: a lock-free reader never sees a torn payload or a payload under another version's number")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "read before the first write: version 0, the zeros of format()")
@Outcome(id = "1, 1, -2", expect = ACCEPTABLE, desc = "version 1, whole: (1, ~1)")
@Outcome(id = "2, 2, -3", expect = ACCEPTABLE, desc = "version 2, whole: (2, ~2)")
@Outcome(id = "3, 3, -4", expect = ACCEPTABLE, desc = "version 3, whole: (3, ~3)")
@Outcome(expect = FORBIDDEN, desc = "torn or mislabelled: the words disagree (b != ~a), they mix two writes, or the version does not name the payload")
@State
public class SeqRecordPublication {
    static final int PAYLOAD = 16;
    private static final MemorySegment V1 = payload(1);
    private static final MemorySegment V2 = payload(2);
    private static final MemorySegment V3 = payload(3);

    /** Lazily, once per test VM: the region of this test class. */
    static final class Holder {
        static final TestRegion R = TestRegion.create(Addressing.OFFSET, 256);
    }

    private final SeqRecord record;
    private final Writers<SeqRecord> writer;
    private final MemorySegment into = MemorySegment.ofArray(new long[PAYLOAD / 8]);

    public SeqRecordPublication() {
        long offset = Holder.R.slab();
        record = SeqRecord.format(Holder.R.region(), offset, PAYLOAD);
        writer = new Writers<>(Holder.R, offset, SeqRecord::attach);
    }

    private static MemorySegment payload(long a) {
        MemorySegment p = Arena.global().allocate(PAYLOAD, 8);
        p.set(JAVA_LONG, 0, a);
        p.set(JAVA_LONG, 8, ~a);
        return p;
    }

    @Actor
    public void writer() {
        SeqRecord w = writer.get();
        w.write(V1);
        w.write(V2);
        w.write(V3);
    }

    @Actor
    public void reader(JJJ_Result r) {
        r.r1 = record.read(into);
        r.r2 = into.get(JAVA_LONG, 0);
        r.r3 = into.get(JAVA_LONG, 8);
    }
}
