package dev.panmap.jcstress;

import static dev.panmap.internal.RegionLayout.SLOT_STAMP_OFFSET;
import static dev.panmap.internal.RegionLayout.slotOffset;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.panmap.Addressing;
import dev.panmap.internal.AttachTable;
import dev.panmap.internal.Header;
import dev.panmap.internal.Platform;
import dev.panmap.internal.RegionLayout;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The attach table ({@link AttachTable}, over a header laid in a slab): two processes register at
 * once. Each has its own descriptor of the region's object (another open file description, as
 * another process has), and claims a slot by taking that slot's OFD byte lock and then writing its
 * 8-byte process stamp; the lock bytes of this instance are its own range, so instances never meet.
 * Each must get its own slot, and each slot must name the process that claimed it.
 */
@JCStressTest
@Description("AttachTable: concurrent registrations get distinct slots, each named by its own stamp")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "A claimed slot 0, B slot 1, both stamps right")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "B claimed slot 0, A slot 1, both stamps right")
@Outcome(expect = FORBIDDEN, desc = "both got the same slot, or a slot holds a stamp that is neither's own (last 1 = both stamps right)")
@State
public class AttachTableRegistration {
    static final int CAPACITY = 2;

    static final class Holder {
        static final TestRegion R = TestRegion.create(Addressing.OFFSET, 384); // 256-byte header head + 2 x 32-byte slots
    }

    /** Lock bytes past every real slot's (the test region's own attach table uses the first ones). */
    private static final AtomicLong LOCK_BYTES = new AtomicLong(RegionLayout.SLOT_LOCK_BYTE + RegionLayout.MAX_ATTACH_CAPACITY);

    private final Header header;
    private final Platform.Handle handleA;
    private final Platform.Handle handleB;
    private final AttachTable tableA;
    private final AttachTable tableB;

    public AttachTableRegistration() {
        header = new Header(Holder.R.segment(Holder.R.slab(true)));
        long lockBase = LOCK_BYTES.getAndAdd(CAPACITY);
        handleA = Holder.R.openHandle();
        handleB = Holder.R.openHandle();
        tableA = new AttachTable(header, CAPACITY, Processes.PLATFORM, handleA, lockBase);
        tableB = new AttachTable(header, CAPACITY, Processes.PLATFORM, handleB, lockBase);
    }

    @Actor
    public void a(III_Result r) {
        r.r1 = tableA.register("jcstress", Processes.PID_A, Processes.START_A);
    }

    @Actor
    public void b(III_Result r) {
        r.r2 = tableB.register("jcstress", Processes.PID_B, Processes.START_B);
    }

    @Arbiter
    public void check(III_Result r) {
        boolean right = r.r1 >= 0 && r.r1 < CAPACITY && r.r2 >= 0 && r.r2 < CAPACITY
            && header.getLongVolatile(slotOffset(r.r1) + SLOT_STAMP_OFFSET) == Processes.STAMP_A
            && header.getLongVolatile(slotOffset(r.r2) + SLOT_STAMP_OFFSET) == Processes.STAMP_B;
        r.r3 = right ? 1 : 0;
        Processes.PLATFORM.close(handleA); // drops the slot locks with the descriptors
        Processes.PLATFORM.close(handleB);
    }
}
