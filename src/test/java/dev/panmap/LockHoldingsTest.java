package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.internal.RegionLayout;
import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.ReadLockChild;
import dev.panmap.testing.RegionChild;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Issue 20: read access is enough to stall writers (a shared OFD lock on the writer lock's byte and
 * on attach slots' bytes), and the tools did not show it: inspect said "writer lock free, 0 alive".
 * lockHoldings() reports, from the kernel, who holds each lock byte and how; on main's code there was
 * nothing to ask (the test did not compile: no such method).
 */
@LinuxOnly
class LockHoldingsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aReadLockOnTheWriterByteAndOnSlotsIsReportedWithItsPid() throws Exception {
        String name = Names.unique("read-locked");
        try (SharedRegion region = SharedRegion.create(name, RegionOptions.defaults().size(4096).maxAttached(4))) {
            assertThat(region.lockHoldings()).as("this region object's own slot lock is not listed").isEmpty();
            try (ChildJvm squatter = ChildJvm.start(ReadLockChild.class, "/dev/shm" + name, Long.toString(RegionLayout.WRITER_LOCK_BYTE),
                     Long.toString(RegionLayout.SLOT_LOCK_BYTE + 2), Long.toString(RegionLayout.SLOT_LOCK_BYTE + 3));
                 ChildJvm writer = ChildJvm.start(RegionChild.class)) {
                int pid = Integer.parseInt(squatter.awaitPrefix("READ-LOCKED pid=", WAIT));
                writer.awaitPrefix("READY", WAIT);
                writer.send("open shm " + name + " OPEN_ONLY");
                writer.awaitPrefix("OPENED ", WAIT); // takes slot 1 (this process holds slot 0)
                assertThat(region.lockHoldings()).containsExactly(new LockHolding(-1, false, pid),
                    new LockHolding(1, true, (int) writer.pid()), new LockHolding(2, false, pid), new LockHolding(3, false, pid));
                assertThat(region.lockHoldings().getFirst().describe()).isEqualTo("blocked by a read lock of pid " + pid);
                assertThat(region.writerLock().tryLock(Duration.ofMillis(200))).as("the read lock keeps writers out").isFalse();
                assertThat(region.writerLock().holder()).as("and no holder is recorded").isEmpty();
                // the squatter lets go; a writer takes the lock, and is reported as one
                squatter.process().getOutputStream().close();
                squatter.awaitExit(WAIT);
                writer.send("lock");
                writer.awaitPrefix("LOCKED ", WAIT);
                assertThat(region.lockHoldings()).containsExactly(new LockHolding(-1, true, (int) writer.pid()),
                    new LockHolding(1, true, (int) writer.pid()));
                assertThat(region.lockHoldings().getFirst().describe()).isEqualTo("held by writer pid " + writer.pid());
            }
        } finally {
            SharedRegion.remove(name);
        }
    }
}
