package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.RecordChild;
import dev.panmap.testing.RegionChild;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The writer lock, the attach table and SeqRecord across real processes, with SIGKILL. */
@LinuxOnly
class CoordinationTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private String name;
    private SharedRegion region;

    @BeforeEach
    void create() {
        name = Names.unique("coord");
        region = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20).maxAttached(8));
    }

    @AfterEach
    void remove() {
        region.close();
        SharedRegion.remove(name);
    }

    private ChildJvm regionChild() {
        ChildJvm child = ChildJvm.start(RegionChild.class);
        child.awaitPrefix("READY", WAIT);
        child.send("open shm " + name + " OPEN_ONLY");
        child.awaitPrefix("OPENED ", WAIT);
        return child;
    }

    @Test
    void aKilledHoldersLockIsReleasedAndItsRecordAndSlotAreReclaimed() throws Exception {
        WriterLock lock = region.writerLock();
        int childPid;
        try (ChildJvm child = regionChild()) {
            childPid = (int) child.pid();
            child.send("lock");
            child.awaitPrefix("LOCKED", WAIT);
            assertThat(lock.holder()).get().isEqualTo(new ProcessInfo(childPid, lock.holder().get().startTime(), true));
            assertThat(lock.tryLock()).isFalse();
            assertThat(lock.tryLock(Duration.ofMillis(200))).as("timeout while another process holds it").isFalse();
            assertThat(region.attachedProcesses()).contains(new ProcessInfo(childPid, lock.holder().get().startTime(), true));

            child.kill(); // SIGKILL while holding the lock
        }
        assertThat(lock.holder()).as("the dead holder's record stays until the next holder, marked stale")
            .get().extracting(ProcessInfo::pid, ProcessInfo::alive).containsExactly(childPid, false);
        assertThat(lock.tryLock(Duration.ofSeconds(10))).as("the OS released the dead holder's lock").isTrue();
        try {
            assertThat(lock.lastStaleHolder()).get().extracting(ProcessInfo::pid).isEqualTo(childPid);
            assertThat(lock.staleRecoveries()).isEqualTo(1);
            assertThat(lock.holder()).get().extracting(ProcessInfo::pid).isEqualTo((int) ProcessHandle.current().pid());
        } finally {
            lock.unlock();
        }
        assertThat(lock.holder()).isEmpty();

        assertThat(region.attachedProcesses()).anySatisfy(p -> {
            assertThat(p.pid()).isEqualTo(childPid);
            assertThat(p.alive()).isFalse();
        });
        try (SharedRegion next = SharedRegion.open(name)) { // the next attach reclaims dead slots
            assertThat(next.attachedProcesses()).extracting(ProcessInfo::pid).doesNotContain(childPid)
                .contains((int) ProcessHandle.current().pid());
        }
    }

    /**
     * A dead process's slot above a free one: the next attach takes the free slot and must still
     * clear the dead stamp (before, it stayed listed, alive=false, until an attach happened to claim
     * that very slot: AttachTableStressTest's final check failed on it in CI now and then).
     */
    @Test
    void anAttachClearsDeadStampsInSlotsOtherThanTheOneItTakes() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        try (ChildJvm leaving = regionChild(); ChildJvm dying = regionChild()) { // slots 1 and 2
            int dyingPid = (int) dying.pid();
            leaving.send("close");
            leaving.awaitPrefix("CLOSED", WAIT); // slot 1 is free again
            dying.kill();
            assertThat(region.attachedProcesses()).as("before the next attach, the dead stamp is listed")
                .contains(new ProcessInfo(dyingPid, region.attachedProcesses().stream().filter(p -> p.pid() == dyingPid)
                    .findFirst().orElseThrow().startTime(), false));
            try (SharedRegion next = SharedRegion.open(name)) { // takes slot 1
                assertThat(next.attachedProcesses()).as("after an attach that took another slot")
                    .extracting(ProcessInfo::pid).containsExactly(self, self);
            }
        }
    }

    /** The holder record as a crash (or a process in another pid namespace) would leave it. */
    private void forgeHolderRecord(long stamp, long start) {
        MemorySegment header = MemorySegment.ofAddress(region.baseAddress()).reinterpret(region.dataOffset());
        header.set(ValueLayout.JAVA_LONG, dev.panmap.internal.RegionLayout.LOCK_HOLDER_START_OFFSET, start);
        header.set(ValueLayout.JAVA_LONG, dev.panmap.internal.RegionLayout.LOCK_HOLDER_OFFSET, stamp);
    }

    @Test
    void aRecordWithoutItsLockIsStaleWhateverPidItNames() throws Exception {
        WriterLock lock = region.writerLock();
        int deadPid;
        long deadStart;
        try (ChildJvm child = ChildJvm.start(RegionChild.class)) {
            child.awaitPrefix("READY", WAIT);
            deadPid = (int) child.pid();
            deadStart = Long.parseLong(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + deadPid + "/stat"))
                .replaceFirst("^.*\\) ", "").split(" ")[22 - 3]);
        }
        // a record naming a live process (this one) whose lock is not held: what a holder in another pid
        // namespace that died with this pid would leave. Liveness is the lock's, not the pid's: stale.
        ProcessHandle self = ProcessHandle.current();
        long selfStart = Long.parseLong(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"))
            .replaceFirst("^.*\\) ", "").split(" ")[22 - 3]);
        forgeHolderRecord(dev.panmap.internal.ProcessStamp.of((int) self.pid(), selfStart), selfStart);
        assertThat(lock.holder()).get().isEqualTo(new ProcessInfo((int) self.pid(), selfStart, false));
        assertThat(lock.tryLock()).isTrue();
        assertThat(lock.holder()).as("held by us now").get().extracting(ProcessInfo::alive).isEqualTo(true);
        lock.unlock();
        assertThat(lock.holder()).as("a holder clears its record").isEmpty();
        assertThat(lock.staleRecoveries()).isEqualTo(1);
        assertThat(lock.lastStaleHolder()).get().isEqualTo(new ProcessInfo((int) self.pid(), selfStart, false));

        // a dead process's record: counted, and named with its full start time
        forgeHolderRecord(dev.panmap.internal.ProcessStamp.of(deadPid, deadStart), deadStart);
        assertThat(lock.holder()).get().isEqualTo(new ProcessInfo(deadPid, deadStart, false));
        assertThat(lock.tryLock()).isTrue();
        lock.unlock();
        assertThat(lock.staleRecoveries()).isEqualTo(2);
        assertThat(lock.lastStaleHolder()).get().isEqualTo(new ProcessInfo(deadPid, deadStart, false));
        assertThat(lock.tryLock()).isTrue();
        lock.unlock();
        assertThat(lock.staleRecoveries()).as("a clean release leaves nothing to recover").isEqualTo(2);
    }

    @Test
    void twoWriterProcessesCountExactlyUnderTheLock() {
        int n = 20_000;
        try (ChildJvm a = regionChild(); ChildJvm b = regionChild()) {
            a.send("add 64 " + n);
            b.send("add 64 " + n);
            a.awaitLine("ADDED"::equals, Duration.ofMinutes(3));
            b.awaitLine("ADDED"::equals, Duration.ofMinutes(3));
        }
        assertThat(region.segment().get(ValueLayout.JAVA_LONG, 64)).isEqualTo(2L * n);
        assertThat(region.writerLock().acquisitions()).isEqualTo(2L * n);
    }

    @Test
    void readersNeverSeeATornRecordAndNeverHangWhileWritersAreKilled() throws Exception {
        int payload = 4096; // long writes, so that kills land mid-write
        SeqRecord record = SeqRecord.format(region, 0, payload);
        List<ChildJvm> readers = new ArrayList<>();
        Random random = new Random(42);
        int rounds = 6;
        List<Integer> writerPids = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                ChildJvm reader = ChildJvm.start(RecordChild.class, "reader", name, "0");
                reader.awaitPrefix("READING", WAIT);
                readers.add(reader);
            }
            long[] lastReads = new long[readers.size()];
            for (int round = 0; round < rounds; round++) {
                try (ChildJvm writer = ChildJvm.start(RecordChild.class, "writer", name, "0")) {
                    writerPids.add((int) writer.pid());
                    writer.awaitPrefix("WRITING", WAIT);
                    Thread.sleep(100 + random.nextInt(300));
                    writer.kill();
                }
                for (int i = 0; i < readers.size(); i++) {
                    readers.get(i).send("report");
                    String report = readers.get(i).awaitPrefix("REPORT ", WAIT);
                    long reads = Long.parseLong(report.replaceAll(".*reads=(\\d+).*", "$1"));
                    assertThat(report).as("round %d reader %d", round, i).contains("torn=0 ");
                    assertThat(reads).as("reader %d keeps reading after writer %d was killed", i, round).isGreaterThan(lastReads[i]);
                    lastReads[i] = reads;
                }
            }
            // this process reads too, and then becomes the next writer
            MemorySegment copy = Arena.ofAuto().allocate(payload);
            long version = record.read(copy);
            assertThat(version).isPositive();
            for (int i = 1; i < payload / 8; i++) {
                assertThat(copy.getAtIndex(ValueLayout.JAVA_LONG, i)).isEqualTo(copy.getAtIndex(ValueLayout.JAVA_LONG, 0));
            }
            assertThat(region.writerLock().tryLock(Duration.ofSeconds(10))).isTrue();
            try {
                assertThat(region.writerLock().staleRecoveries()).isEqualTo(rounds);
                assertThat(region.writerLock().lastStaleHolder()).get().extracting(ProcessInfo::pid).isEqualTo(writerPids.get(rounds - 1));
                record.write(p -> p.fill((byte) 0));
                record.write(p -> p.fill((byte) 0)); // both slots written: any odd one was repaired
                assertThat(record.repairedWrites()).as("kills landed mid-write and were repaired").isPositive();
            } finally {
                region.writerLock().unlock();
            }
            assertThat(record.read(copy)).isEqualTo(version + 2);
        } finally {
            readers.forEach(ChildJvm::close);
        }
    }

    @Test
    void misuseOfTheLockIsReported() throws Exception {
        WriterLock lock = region.writerLock();
        assertThatThrownBy(lock::unlock).isInstanceOf(IllegalStateException.class).hasMessageContaining("not held");
        lock.lock();
        assertThatThrownBy(lock::lock).isInstanceOf(IllegalStateException.class).hasMessageContaining("not reentrant");
        AtomicReference<Throwable> other = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                lock.unlock();
            } catch (Throwable e) {
                other.set(e);
            }
        });
        t.start();
        t.join();
        assertThat(other.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("not held by this thread");
        lock.unlock();
        assertThatThrownBy(lock::unlock).as("double unlock").isInstanceOf(IllegalStateException.class);

        SeqRecord record = SeqRecord.format(region, 4096, 16);
        assertThatThrownBy(() -> record.write(p -> {})).isInstanceOf(IllegalStateException.class).hasMessageContaining("writer lock");
        assertThatThrownBy(() -> SeqRecord.attach(region, 8192)).isInstanceOf(RegionException.class).hasMessageContaining("no SeqRecord");
        assertThatThrownBy(() -> SeqRecord.format(region, 3, 16)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SeqRecord.format(region, region.size() - 64, 16)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void threadsOfOneProcessAndTwoRegionObjectsAreSerialised() throws Exception {
        try (SharedRegion second = SharedRegion.open(name)) {
            region.writerLock().lock();
            assertThat(second.writerLock().tryLock()).as("another open file description in the same process").isFalse();
            region.writerLock().unlock();

            int threads = 4;
            int n = 5_000;
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                SharedRegion r = i % 2 == 0 ? region : second;
                Thread w = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int k = 0; k < n; k++) {
                        try (WriterLock.Held held = r.writerLock().hold()) {
                            long v = r.segment().get(ValueLayout.JAVA_LONG, 128);
                            r.segment().set(ValueLayout.JAVA_LONG, 128, v + 1);
                        }
                    }
                });
                w.start();
                workers.add(w);
            }
            go.countDown();
            for (Thread w : workers) {
                w.join(120_000);
            }
            assertThat(region.segment().get(ValueLayout.JAVA_LONG, 128)).isEqualTo((long) threads * n);
        }
    }

    @Test
    void closingARegionReleasesItsLock() {
        try (SharedRegion second = SharedRegion.open(name)) {
            second.writerLock().lock();
            assertThat(region.writerLock().tryLock()).isFalse();
        }
        assertThat(region.writerLock().tryLock()).isTrue();
        region.writerLock().unlock();
    }

    @Test
    void aFullAttachTableIsAClearError() {
        List<SharedRegion> opened = new ArrayList<>();
        try {
            for (int i = 1; i < 8; i++) { // the creator holds one of the 8 slots
                opened.add(SharedRegion.open(name));
            }
            assertThatThrownBy(() -> SharedRegion.open(name))
                .isInstanceOf(RegionException.class)
                .hasMessageContaining("attach table of " + name + " is full")
                .extracting(e -> ((RegionException) e).kind()).isEqualTo(ErrorKind.LIMIT_REACHED);
        } finally {
            opened.forEach(SharedRegion::close);
        }
        SharedRegion.open(name).close();
    }
}
