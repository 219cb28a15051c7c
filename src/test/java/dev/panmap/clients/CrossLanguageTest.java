package dev.panmap.clients;

import static dev.panmap.clients.ClientProcess.field;
import static dev.panmap.clients.ClientProcess.number;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.OpenMode;
import dev.panmap.ProcessInfo;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import dev.panmap.clients.ClientProcess.Kind;
import dev.panmap.internal.RegionLayout;
import dev.panmap.structures.HashIndex;
import dev.panmap.structures.NodeList;
import dev.panmap.structures.RegionHeap;
import dev.panmap.structures.SkipList;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Java, the C client and the Python client on the same regions (issue 15): readers in every language
 * while Java writes flat out, writers in C and Python under the lock that Java honours, the lock's
 * exclusion every way, a client killed holding the lock and recovered by Java as stale, growth, and
 * headers all three refuse alike. The C driver runs built with AddressSanitizer and UBSan (kind C), a
 * sanitizer report fails the test; one test runs the plain -O2 build at the default DIRECT base, which
 * is where AddressSanitizer keeps its allocator (so the sanitized tests use {@link #TEST_BASE}).
 */
@LinuxOnly
class CrossLanguageTest {
    /**
     * A DIRECT base free under AddressSanitizer on x86_64 (shadow below 0x10007fff8000, allocator at
     * 0x600000000000, the default DIRECT base) and on aarch64 (shadow below 0x201000000000 at most,
     * allocator at 0x500000000000), and 2 GiB past a 4 GiB boundary, where no aarch64 JVM puts its class
     * space (PosixPlatform.DEFAULT_DIRECT_BASE says why).
     */
    static final long TEST_BASE = 0x4000_8000_0000L;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final int WORDS = 32;

    @TempDir
    Path dir;

    @RegisterExtension
    final Closer cleanup = new Closer();


    private SharedRegion create(String name, Addressing addressing, long size, long maxSize) {
        return create(name, addressing, size, maxSize, TEST_BASE);
    }

    /** @param base a DIRECT region's base, 0 for the default */
    private SharedRegion create(String name, Addressing addressing, long size, long maxSize, long base) {
        RegionOptions options = RegionOptions.defaults().size(size).addressing(addressing);
        if (maxSize > 0) {
            options = options.maxSize(maxSize);
        }
        if (addressing == Addressing.DIRECT && base != 0) {
            options = options.baseAddress(base);
        }
        SharedRegion r = SharedRegion.create(name, options);
        cleanup.add(() -> {
            r.close();
            SharedRegion.remove(name);
        });
        return r;
    }

    private ClientProcess client(Kind kind) {
        ClientProcess c = ClientProcess.start(kind);
        cleanup.add(c);
        return c;
    }

    private static void fill(MemorySegment payload, long value) {
        for (int i = 0; i < payload.byteSize() / 8; i++) {
            payload.setAtIndex(ValueLayout.JAVA_LONG, i, value);
        }
    }

    /** A Java writer thread that writes v+1, v+2, ... into every word, flat out or with a pause, until stopped. */
    private static final class JavaWriter implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong written = new AtomicLong();
        final Thread thread;

        JavaWriter(SharedRegion region, SeqRecord record, long pauseNanos) {
            thread = new Thread(() -> {
                try (var held = region.writerLock().hold()) {
                    long v = record.version();
                    while (!stop.get()) {
                        long value = ++v;
                        record.write(p -> fill(p, value));
                        written.set(value);
                        if (pauseNanos > 0) {
                            java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
                        }
                    }
                }
            });
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join();
        }
    }

    @ParameterizedTest(name = "{0} reads {1}")
    @CsvSource({"C, OFFSET", "C, DIRECT", "PYTHON, OFFSET", "PYTHON, DIRECT"})
    void clientReadersNeverSeeATornValueWhileJavaWritesFlatOut(Kind kind, Addressing addressing) throws Exception {
        String name = Names.unique("xlang-read");
        SharedRegion region = create(name, addressing, 1 << 16, 0);
        SeqRecord record = SeqRecord.format(region, 0, WORDS * 8);
        ClientProcess c = client(kind);
        String opened = c.expect("open shm " + name + " ro", "OPENED");
        if (kind == Kind.C && addressing == Addressing.DIRECT) {
            assertThat(field(opened, "base")).as("mapped at the recorded base").isEqualTo(Long.toHexString(region.baseAddress()));
            assertThat(field(opened, "direct")).isEqualTo("1");
        }
        c.expect("record 0", "RECORD payload=" + WORDS * 8);
        // a reader slower than a flat-out writer succeeds mostly when the writer is descheduled (its copy
        // overlaps a publication otherwise, and is retried): Python's copy takes microseconds, so it sees few
        readWhileJavaWritesFlatOut(c, region, record, 1500, kind == Kind.PYTHON ? 2 : 50);
        String read = c.expect("read", "READ");
        assertThat(number(read, "version")).isEqualTo(record.version());
        assertThat(number(read, "first")).isEqualTo(record.version());
        assertThat(field(read, "equal")).isEqualTo("1");
        c.exitCleanly();
    }

    @Test
    void thePlainCBuildReadsADirectRegionAtTheDefaultBase() throws Exception {
        String name = Names.unique("xlang-plain");
        SharedRegion region = create(name, Addressing.DIRECT, 1 << 16, 0, 0); // the default base
        SeqRecord record = SeqRecord.format(region, 0, WORDS * 8);
        ClientProcess c = client(Kind.C_PLAIN);
        String opened = c.expect("open shm " + name + " ro", "OPENED");
        assertThat(field(opened, "base")).isEqualTo(Long.toHexString(region.baseAddress()));
        c.expect("record 0", "RECORD");
        readWhileJavaWritesFlatOut(c, region, record, 1000, 50);
        c.exitCleanly();
    }

    /**
     * The client reads the record for {@code millis} while a Java thread writes it flat out: no torn copy,
     * versions only forward, and progress (more than {@code minVersions} versions seen; on a loaded machine
     * the reader goes on for up to 30 s to see them: what is checked is that it is not starved, not its speed).
     */
    private static void readWhileJavaWritesFlatOut(ClientProcess c, SharedRegion region, SeqRecord record, int millis, int minVersions)
        throws InterruptedException {
        String checked = readCheck(c, region, record, millis + " " + (minVersions + 1) + " 30000", 0);
        assertThat(number(checked, "torn")).as(checked).isZero();
        assertThat(number(checked, "backwards")).as(checked).isZero();
        assertThat(number(checked, "versions")).as("versions seen: " + checked).isGreaterThan(minVersions);
        // and at a pace the slowest reader keeps up with: many versions, in order, none torn
        checked = readCheck(c, region, record, "500 51 30000", 100_000);
        assertThat(number(checked, "torn")).as(checked).isZero();
        assertThat(number(checked, "backwards")).as(checked).isZero();
        assertThat(number(checked, "versions")).as("many versions seen: " + checked).isGreaterThan(50);
    }

    /** @param arguments the readcheck command's: MILLIS [MIN MAXMILLIS] */
    private static String readCheck(ClientProcess c, SharedRegion region, SeqRecord record, String arguments, long pauseNanos)
        throws InterruptedException {
        try (JavaWriter writer = new JavaWriter(region, record, pauseNanos)) {
            long start = record.version();
            while (writer.written.get() < start + 10) {
                Thread.onSpinWait();
            }
            return c.expect("readcheck " + arguments, "CHECKED");
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"C, OFFSET, ''", "C, DIRECT, ''", "C, DIRECT, offset", "PYTHON, OFFSET, ''", "PYTHON, DIRECT, ''"})
    void referencesAreFollowedBothWays(Kind kind, Addressing addressing, String mode) {
        String name = Names.unique("xlang-ref");
        SharedRegion region = create(name, addressing, 1 << 16, 0);
        MemorySegment data = region.segment();
        data.set(ValueLayout.JAVA_LONG, 4096, 42);
        data.set(ValueLayout.JAVA_LONG, 0, region.references().toRef(4096));
        ClientProcess c = client(kind);
        String opened = c.expect("open shm " + name + " rw " + mode, "OPENED");
        if (kind == Kind.C && addressing == Addressing.DIRECT) {
            assertThat(field(opened, "direct")).isEqualTo(mode.equals("offset") ? "0" : "1");
        }
        assertThat(c.expect("follow 0", "FOLLOWED")).startsWith("FOLLOWED 42 ");
        // the client stores a reference; Java follows it
        c.expect("put 8192 77", "OK");
        c.expect("storeref 8 8192", "OK");
        long ref = (long) LONG.getVolatile(data, 8L);
        if (addressing == Addressing.DIRECT) {
            assertThat(ref).as("a DIRECT reference is the address").isEqualTo(region.address(8192));
        }
        long offset = region.references().toOffset(ref);
        assertThat(offset).isEqualTo(8192);
        assertThat(data.get(ValueLayout.JAVA_LONG, offset)).isEqualTo(77);
        c.exitCleanly();
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void clientsWriteUnderTheLockAndJavaReadsWholeValues(Kind kind) throws Exception {
        String name = Names.unique("xlang-write");
        SharedRegion region = create(name, Addressing.OFFSET, 1 << 16, 0);
        SeqRecord record = SeqRecord.format(region, 64, WORDS * 8 + 4); // a payload that is not whole words
        ClientProcess c = client(kind);
        c.expect("open shm " + name + " rw", "OPENED");
        c.expect("record 64", "RECORD payload=" + (WORDS * 8 + 4));
        c.expect("trylock", "LOCKED");
        assertThat(region.writerLock().tryLock()).as("Java cannot take the lock a client holds").isFalse();
        ProcessInfo holder = region.writerLock().holder().orElseThrow();
        assertThat(holder.pid()).isEqualTo((int) c.pid());
        assertThat(holder.alive()).isTrue();

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong torn = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        AtomicLong versions = new AtomicLong();
        Thread reader = new Thread(() -> {
            MemorySegment copy = Arena.ofAuto().allocate(record.payloadSize());
            long last = -1;
            while (!stop.get()) {
                long v = record.read(copy);
                long first = copy.getAtIndex(ValueLayout.JAVA_LONG, 0);
                for (int i = 1; i < WORDS; i++) {
                    if (copy.getAtIndex(ValueLayout.JAVA_LONG, i) != first) {
                        torn.incrementAndGet();
                        break;
                    }
                }
                if (first != v) { // the client writes value k as version k
                    torn.incrementAndGet();
                }
                if (v != last) {
                    versions.incrementAndGet();
                }
                last = v;
                reads.incrementAndGet();
            }
        });
        reader.start();
        int count = kind == Kind.PYTHON ? 20_000 : 200_000;
        String wrote;
        try {
            wrote = c.expect("write " + count, "WROTE");
        } finally {
            stop.set(true);
            reader.join();
        }
        assertThat(number(wrote, "version")).isEqualTo(count);
        assertThat(torn.get()).as("torn reads in Java of " + reads.get()).isZero();
        assertThat(versions.get()).as("versions Java saw").isGreaterThan(1);
        MemorySegment copy = Arena.ofAuto().allocate(record.payloadSize());
        assertThat(record.read(copy)).isEqualTo(count);
        assertThat(copy.getAtIndex(ValueLayout.JAVA_LONG, 0)).isEqualTo(count);
        assertThat(copy.get(ValueLayout.JAVA_INT, WORDS * 8)).as("the partial last word").isEqualTo(count);

        c.expect("unlock", "UNLOCKED");
        assertThat(region.writerLock().holder()).isEmpty();
        assertThat(region.writerLock().tryLock()).isTrue();
        region.writerLock().unlock();
        assertThat(region.writerLock().acquisitions()).isEqualTo(2);
        assertThat(region.writerLock().staleRecoveries()).isZero();
        c.exitCleanly();
    }

    @Test
    void theLockExcludesJavaCAndPythonEveryWay() {
        String name = Names.unique("xlang-lock");
        SharedRegion region = create(name, Addressing.OFFSET, 1 << 16, 0);
        ClientProcess c = client(Kind.C);
        ClientProcess py = client(Kind.PYTHON);
        c.expect("open shm " + name + " rw", "OPENED");
        py.expect("open shm " + name + " rw", "OPENED");

        region.writerLock().lock(); // Java holds
        assertThat(c.ask("trylock")).isEqualTo("BUSY");
        assertThat(c.ask("lock 200")).isEqualTo("BUSY");
        assertThat(py.ask("trylock")).isEqualTo("BUSY");
        assertThat(py.ask("lock 200")).isEqualTo("BUSY");
        assertThat(number(c.expect("info", "INFO"), "holder")).isEqualTo(ProcessHandle.current().pid());
        assertThat(number(py.expect("info", "INFO"), "held")).isEqualTo(1);
        region.writerLock().unlock();

        c.expect("trylock", "LOCKED"); // C holds
        assertThat(region.writerLock().tryLock()).isFalse();
        assertThat(py.ask("trylock")).isEqualTo("BUSY");
        assertThat(number(py.expect("info", "INFO"), "holder")).isEqualTo(c.pid());
        c.expect("unlock", "UNLOCKED");

        py.expect("trylock", "LOCKED"); // Python holds
        assertThat(region.writerLock().tryLock()).isFalse();
        assertThat(c.ask("trylock")).isEqualTo("BUSY");
        assertThat(region.writerLock().holder().orElseThrow().pid()).isEqualTo((int) py.pid());
        // a waiting Java lock() gets it as soon as Python lets go
        c.send("lock 5000");
        py.expect("unlock", "UNLOCKED");
        c.await("LOCKED");
        c.expect("unlock", "UNLOCKED");
        assertThat(region.writerLock().tryLock()).isTrue();
        region.writerLock().unlock();
        assertThat(region.writerLock().acquisitions()).isEqualTo(5);
        assertThat(region.writerLock().staleRecoveries()).isZero();
        c.exitCleanly();
        py.exitCleanly();
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void aClientKilledHoldingTheLockMidWriteIsRecoveredByJavaAsStale(Kind kind) throws Exception {
        String name = Names.unique("xlang-kill");
        SharedRegion region = create(name, Addressing.OFFSET, 1 << 16, 0);
        SeqRecord record = SeqRecord.format(region, 0, WORDS * 8);
        try (var held = region.writerLock().hold()) {
            record.write(p -> fill(p, 7));
        }
        ClientProcess c = client(kind);
        c.expect("open shm " + name + " rw", "OPENED");
        c.expect("record 0", "RECORD");
        c.expect("trylock", "LOCKED");
        c.expect("writehalf 999", "HALF"); // the slot's sequence is odd, half its words are 999
        assertThat(region.attachedProcesses()).filteredOn(p -> p.pid() == c.pid()).extracting(ProcessInfo::alive).containsExactly(true);
        c.kill();

        MemorySegment copy = Arena.ofAuto().allocate(record.payloadSize());
        assertThat(record.read(copy)).as("readers still see the last published version").isEqualTo(1);
        assertThat(copy.getAtIndex(ValueLayout.JAVA_LONG, WORDS - 1)).isEqualTo(7);
        assertThat(region.writerLock().tryLock(Duration.ofSeconds(10))).as("the kernel released the dead client's lock").isTrue();
        try {
            assertThat(region.writerLock().staleRecoveries()).isEqualTo(1);
            assertThat(region.writerLock().lastStaleHolder().orElseThrow().pid()).isEqualTo((int) c.pid());
            record.write(p -> fill(p, 8));
            assertThat(record.repairedWrites()).as("the half-written slot was found and repaired").isEqualTo(1);
        } finally {
            region.writerLock().unlock();
        }
        assertThat(record.read(copy)).isEqualTo(2);
        assertThat(copy.getAtIndex(ValueLayout.JAVA_LONG, 0)).isEqualTo(8);
        assertThat(copy.getAtIndex(ValueLayout.JAVA_LONG, WORDS - 1)).isEqualTo(8);
        assertThat(region.attachedProcesses()).filteredOn(p -> p.pid() == c.pid()).extracting(ProcessInfo::alive).containsExactly(false);
    }

    @Test
    void aJavaHolderKilledIsRecoveredByCAndPythonAsStale() throws Exception {
        String name = Names.unique("xlang-kill-java");
        SharedRegion region = create(name, Addressing.OFFSET, 1 << 16, 0);
        ClientProcess py = client(Kind.PYTHON);
        ClientProcess c = client(Kind.C);
        py.expect("open shm " + name + " rw", "OPENED");
        c.expect("open shm " + name + " rw", "OPENED");
        py.expect("trylock", "LOCKED");
        py.kill();
        c.expect("lock 10000", "LOCKED");
        String info = c.expect("info", "INFO");
        assertThat(number(info, "stale")).isEqualTo(1);
        assertThat(number(info, "laststale")).isEqualTo(py.pid());
        assertThat(region.writerLock().lastStaleHolder().orElseThrow().pid()).isEqualTo((int) py.pid());
        assertThat(region.writerLock().holder().orElseThrow().pid()).isEqualTo((int) c.pid());
        c.kill();
        assertThat(region.writerLock().tryLock(Duration.ofSeconds(10))).isTrue();
        region.writerLock().unlock();
        assertThat(region.writerLock().staleRecoveries()).isEqualTo(2);
        assertThat(region.writerLock().lastStaleHolder().orElseThrow().pid()).isEqualTo((int) c.pid());
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void clientsAttachAtTheCurrentSizeAndRefreshAfterGrowth(Kind kind) {
        String name = Names.unique("xlang-grow");
        SharedRegion region = create(name, Addressing.DIRECT, 1 << 16, 1 << 22);
        ClientProcess before = client(kind);
        assertThat(number(before.expect("open shm " + name + " ro", "OPENED"), "size")).isEqualTo(1 << 16);
        region.grow(1 << 20);
        LONG.setVolatile(region.segment(), (1L << 20) - 8, 4242L);
        assertThat(number(before.expect("size", "SIZE"), "size")).as("not yet refreshed").isEqualTo(1 << 16);
        assertThat(number(before.expect("refresh", "SIZE"), "size")).isEqualTo(1 << 20);
        assertThat(before.expect("get " + ((1 << 20) - 8), "VALUE")).isEqualTo("VALUE 4242");
        ClientProcess after = client(kind);
        assertThat(number(after.expect("open shm " + name + " rw", "OPENED"), "size")).as("attach maps the current size").isEqualTo(1 << 20);
        assertThat(after.expect("get " + ((1 << 20) - 8), "VALUE")).isEqualTo("VALUE 4242");
        region.grow(1 << 21);
        assertThat(number(after.expect("refresh", "SIZE"), "size")).isEqualTo(1 << 21);
        after.expect("put " + ((1 << 21) - 8) + " 99", "OK");
        assertThat((long) LONG.getVolatile(region.segment(), (1L << 21) - 8)).isEqualTo(99);
        before.exitCleanly();
        after.exitCleanly();
    }

    /**
     * Attaching while another process grows: the attacher must take the object's size after the
     * current size (§7 of FORMAT.md), or a grow in between makes a healthy region look truncated.
     */
    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void clientsAttachWhileJavaGrows(Kind kind) throws Exception {
        String name = Names.unique("xlang-growing");
        long page = 4096;
        SharedRegion region = create(name, Addressing.OFFSET, page, 64L << 20, 0);
        AtomicBoolean stop = new AtomicBoolean();
        Thread grower = new Thread(() -> {
            while (!stop.get() && region.size() + page <= (64L << 20)) {
                region.grow(region.size() + page);
            }
        });
        ClientProcess c = client(kind);
        grower.start();
        String looped;
        try {
            looped = c.expect("attachloop shm " + name + " " + (kind == Kind.PYTHON ? 500 : 3000), "LOOPED");
        } finally {
            stop.set(true);
            grower.join();
        }
        assertThat(number(looped, "failed")).as(looped + " (grown to " + region.size() + ")").isZero();
        c.exitCleanly();
    }

    /** Java's structures in a region: a list of 1..100, a hash of k -> k*k, a skip list of 10k -> -k (k = 1..100). */
    static long[] javaStructures(SharedRegion r) {
        RegionHeap heap = RegionHeap.create(r, 0, r.size());
        try (var held = r.writerLock().hold()) {
            NodeList list = NodeList.create(heap, 24);
            HashIndex hash = HashIndex.create(heap, 1000);
            SkipList skip = SkipList.create(heap);
            for (long k = 1; k <= 100; k++) {
                list.add(k);
                hash.put(k, k * k, -1);
                skip.put(k * 10, -k, 0);
            }
            return new long[] {list.root(), hash.root(), skip.root()};
        }
    }

    @ParameterizedTest(name = "{0} reads {1}")
    @CsvSource({"C, OFFSET", "C, DIRECT", "PYTHON, OFFSET", "PYTHON, DIRECT", "C_PLAIN, DIRECT"})
    void clientsReadTheStructuresJavaWrote(Kind kind, Addressing addressing) throws Exception {
        String name = Names.unique("xlang-structures");
        SharedRegion region = create(name, addressing, 1 << 20, 0, kind == Kind.C_PLAIN ? 0 : TEST_BASE);
        long[] roots = javaStructures(region);
        ClientProcess c = client(kind);
        c.expect("open shm " + name + " ro", "OPENED");
        assertThat(c.ask("list " + roots[0])).isEqualTo("LIST count=100 sum=5050");
        assertThat(c.ask("hash " + roots[1] + " 7 100 1000 -3")).isEqualTo("HASH 7=49 100=10000 1000=- -3=-");
        assertThat(c.ask("skip " + roots[2] + " 70 75 5 2000 -1")).isEqualTo("SKIP 70=-7/70/70 75=-/70/80 5=-/-/10 2000=-/1000/- -1=-/-/10");
        assertThat(c.ask("skipwalk " + roots[2] + " 500")).isEqualTo("SKIPWALK count=51 keysum=38250");
        assertThat(c.ask("hash " + roots[0] + " 1")).as("a list is not a hash index").startsWith("ERROR INCOMPATIBLE_REGION ");

        // while a Java writer keeps adding (a reader sees each structure as it was at some moment, or longer)
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            NodeList list = NodeList.attach(region, roots[0]);
            HashIndex hash = HashIndex.attach(region, roots[1]);
            SkipList skip = SkipList.attach(region, roots[2]);
            for (long k = 101; k <= 700 && !stop.get(); k++) {
                try (var held = region.writerLock().hold()) {
                    list.add(k);
                    hash.put(k, k * k, -1);
                    skip.put(k * 10 + 5, -k, 0);
                }
            }
        });
        writer.start();
        try {
            long lastCount = 100;
            for (int i = 0; i < 60; i++) {
                String list = c.expect("list " + roots[0], "LIST");
                long count = number(list, "count");
                assertThat(count).isGreaterThanOrEqualTo(lastCount);
                assertThat(number(list, "sum")).isEqualTo(count * (count + 1) / 2);
                lastCount = count;
                assertThat(c.ask("hash " + roots[1] + " 7 99")).isEqualTo("HASH 7=49 99=9801");
                assertThat(c.ask("skip " + roots[2] + " 70")).isEqualTo("SKIP 70=-7/70/70");
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        c.exitCleanly();
    }

    /** A region a client creates is one Java attaches, both modes; Java grows it and the client follows (Python grows it too). */
    @ParameterizedTest(name = "{0} creates {1}")
    @CsvSource({"C, offset", "C, direct", "PYTHON, offset", "PYTHON, direct"})
    void aRegionAClientCreatesIsOneJavaAttaches(Kind kind, String mode) {
        String name = Names.unique("xlang-create");
        ClientProcess c = client(kind);
        cleanup.add(() -> SharedRegion.remove(name));
        c.expect("create shm " + name + " 65536 1048576 " + mode + " " + Long.toHexString(TEST_BASE), "CREATED");
        c.expect("format 128 64", "RECORD");
        c.expect("trylock", "LOCKED");
        c.expect("write 5", "WROTE version=5");
        c.expect("unlock", "UNLOCKED");
        c.expect("put 4096 31", "OK");
        c.expect("storeref 0 4096", "OK");
        try (SharedRegion r = SharedRegion.open(name)) {
            assertThat(r.addressing()).isEqualTo(mode.equals("direct") ? Addressing.DIRECT : Addressing.OFFSET);
            if (mode.equals("direct")) {
                assertThat(r.baseAddress()).as("Java maps it at the base the client recorded").isEqualTo(TEST_BASE);
            }
            assertThat(r.size()).isEqualTo(1 << 16);
            assertThat(r.reservedSpan()).isEqualTo(r.dataOffset() + (1 << 20));
            assertThat(r.creator().orElseThrow().pid()).isEqualTo((int) c.pid());
            assertThat(r.attachedProcesses()).extracting(ProcessInfo::pid).contains((int) c.pid(), (int) ProcessHandle.current().pid());
            SeqRecord record = SeqRecord.attach(r, 128);
            MemorySegment copy = Arena.ofAuto().allocate(64);
            assertThat(record.read(copy)).isEqualTo(5);
            assertThat(copy.get(ValueLayout.JAVA_LONG, 56)).isEqualTo(5);
            assertThat(r.segment().get(ValueLayout.JAVA_LONG, r.references().toOffset(r.segment().get(ValueLayout.JAVA_LONG, 0)))).isEqualTo(31);
            long acquisitions = 1;
            if (kind == Kind.PYTHON) {
                assertThat(number(c.expect("grow 262144", "SIZE"), "size")).isEqualTo(1 << 18); // Python grows under the lock
                r.refresh();
                assertThat(r.size()).as("Java follows a growth made by Python").isEqualTo(1 << 18);
                assertThat(r.generation()).isEqualTo(2);
                acquisitions++;
            }
            r.grow(1 << 19); // Java grows the client-made region; the client sees it
            assertThat(number(c.expect("refresh", "SIZE"), "size")).isEqualTo(1 << 19);
            assertThat(r.writerLock().acquisitions()).isEqualTo(acquisitions + 1);
        }
        c.exitCleanly();
    }

    /**
     * AddressSanitizer keeps its allocator where a DIRECT region may be asked for (on x86_64 at Java's
     * default base). The sanitized C client says so (naming the sanitizer) instead of failing obscurely,
     * maps the region elsewhere when allowed, and creates its own DIRECT regions at a base the sanitizer
     * leaves free, where Java attaches them.
     */
    @Test
    void theSanitizedCClientNamesTheSanitizerAndCreatesAtABaseItLeavesFree() {
        ClientProcess c = client(Kind.C);
        long heap = Long.parseUnsignedLong(c.expect("heap", "HEAP").substring("HEAP ".length()).strip(), 16);
        long owned = heap & ~0xFFFFL; // a base inside the allocator, where the client's malloc put a chunk
        String name = Names.unique("xlang-asan");
        create(name, Addressing.DIRECT, 1 << 16, 0, owned); // free in this JVM, which runs no sanitizer
        assertThat(c.ask("open shm " + name + " ro")).startsWith("ERROR ADDRESS_IN_USE ").contains("AddressSanitizer", "PMR_ALLOW_OFFSET_FALLBACK");
        assertThat(c.expect("open shm " + name + " ro fallback", "OPENED")).contains("direct=0");
        c.expect("close", "CLOSED");
        String own = Names.unique("xlang-asan-own");
        cleanup.add(() -> SharedRegion.remove(own));
        String created = c.expect("create shm " + own + " 65536 0 direct", "CREATED");
        long base = Long.parseUnsignedLong(field(created, "base"), 16);
        try (SharedRegion r = SharedRegion.open(own)) {
            assertThat(r.baseAddress()).isEqualTo(base);
        }
        c.exitCleanly();
    }

    /**
     * A creator still writing the header, whose pid means nothing here (as for a creator in another pid
     * namespace): it holds the writer lock, so all three wait for it and attach once it publishes, where
     * a pid check would have called it dead (FORMAT.md §3.1).
     */
    @Test
    void aLiveCreatorWhosePidMeansNothingHereIsWaitedForByAllThree() throws Exception {
        Path file = dir.resolve("creating");
        try (SharedRegion r = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(1 << 16))) {
            r.segment().set(ValueLayout.JAVA_LONG, 0, 77);
        }
        byte[] header = new byte[RegionLayout.MIN_HEADER_SIZE];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            h.putInt(RegionLayout.CREATOR_PID_OFFSET, Integer.MAX_VALUE - 7); // no such process here
            CRC32C crc = new CRC32C();
            crc.update(header, RegionLayout.CHECKSUMMED_FROM, RegionLayout.CHECKSUM_OFFSET - RegionLayout.CHECKSUMMED_FROM);
            h.putInt(RegionLayout.CHECKSUM_OFFSET, (int) crc.getValue());
            ch.write(ByteBuffer.wrap(header), 0);
            ch.write(ByteBuffer.allocate(8), RegionLayout.MAGIC_OFFSET); // not published yet
        }
        // the "creator": holds the writer lock (byte 2^63-2) through its own open file description
        Process creator = new ProcessBuilder("python3", "-c", "import fcntl,os,struct,sys,time\n"
            + "fd=os.open(sys.argv[1],os.O_RDWR)\nfcntl.fcntl(fd,37,struct.pack('=hh4xqqi4x',1,0,(1<<63)-2,1,0))\n"
            + "print('held',flush=True)\nsys.stdin.read()\n", file.toString()).start();
        cleanup.add(creator::destroyForcibly);
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(creator.getInputStream())).readLine()).isEqualTo("held");
        ClientProcess c = client(Kind.C);
        ClientProcess py = client(Kind.PYTHON);
        java.util.concurrent.CompletableFuture<Long> javaOpen = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (SharedRegion r = SharedRegion.openFile(file, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults().attachTimeout(Duration.ofSeconds(20)))) {
                return r.segment().get(ValueLayout.JAVA_LONG, 0);
            }
        });
        c.send("open file " + file + " ro");
        py.send("open file " + file + " ro");
        Thread.sleep(1500); // all three are waiting now (each would have answered CORRUPT_REGION at once, judging by the pid)
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(header, 0, 8), RegionLayout.MAGIC_OFFSET); // published
        }
        assertThat(javaOpen.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(77);
        c.await("OPENED");
        py.await("OPENED");
        assertThat(c.ask("get 0")).isEqualTo("VALUE 77");
        creator.getOutputStream().close();
        assertThat(creator.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        c.exitCleanly();
        py.exitCleanly();
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"C", "PYTHON"})
    void theClientsLayoutConstantsAreJavas(Kind kind) throws Exception {
        ClientProcess c = client(kind);
        String layout = c.expect("layout", "LAYOUT");
        int compared = 0;
        for (String part : layout.substring("LAYOUT ".length()).split(" ")) {
            int eq = part.lastIndexOf('=');
            String key = part.substring(0, eq);
            long value = Long.parseLong(part.substring(eq + 1));
            assertThat(value).as(kind + " " + key).isEqualTo(FormatSpecTest.javaValue(key));
            compared++;
        }
        assertThat(compared).isGreaterThan(45);
        c.exitCleanly();
    }

    @Test
    void theCClientPassesItsThreadAndCloseTestsPlainAndUnderAddressSanitizer() {
        ClientProcess.build();
        for (String program : new String[] {"threads", "threads-asan", "close", "close-asan"}) {
            var r = ClientProcess.run(List.of(ClientProcess.C_BUILD.resolve(program).toString()), ClientProcess.asanEnv(), Duration.ofMinutes(2));
            assertThat(r.exit()).as(program + ":\n" + r.output()).isZero();
            assertThat(r.output()).startsWith("OK ").doesNotContain("Sanitizer");
        }
    }

    @Test
    void theCClientPassesItsThreadTestUnderThreadSanitizer() {
        ClientProcess.build();
        var tsan = ClientProcess.run(List.of(ClientProcess.C_BUILD.resolve("threads-tsan").toString()), Map.of("TSAN_OPTIONS", "halt_on_error=1"),
            Duration.ofMinutes(2));
        // aarch64's TSan knows 39-, 42- and 48-bit address spaces; QEMU user mode on an x86_64 host gives 47 bits
        org.junit.jupiter.api.Assumptions.assumeFalse(tsan.output().contains("unsupported VMA range"),
            "ThreadSanitizer does not support this address space's size: " + tsan.output().strip().replace('\n', ' '));
        if (tsan.output().contains("unexpected memory mapping") || tsan.output().contains("ThreadSanitizer: failed")) {
            // some kernels randomise mmap more than this TSan supports: run it without ASLR
            tsan = ClientProcess.run(List.of("setarch", System.getProperty("os.arch").equals("amd64") ? "x86_64" : "aarch64", "-R",
                ClientProcess.C_BUILD.resolve("threads-tsan").toString()), Map.of("TSAN_OPTIONS", "halt_on_error=1"), Duration.ofMinutes(2));
            org.junit.jupiter.api.Assumptions.assumeFalse(tsan.output().contains("unexpected memory mapping"),
                "ThreadSanitizer cannot run on this kernel's address-space layout, even with setarch -R:\n" + tsan.output());
        }
        assertThat(tsan.exit()).as("threads-tsan:\n" + tsan.output()).isZero();
        assertThat(tsan.output()).startsWith("OK ").doesNotContain("WARNING: ThreadSanitizer");
    }

    @Test
    void theExampleUpdaterRewritesATextThatAReaderStartedOnceSeesChange() throws Exception {
        ClientProcess.build();
        String name = Names.unique("xlang-example");
        cleanup.add(() -> SharedRegion.remove(name));
        Process reader = new ProcessBuilder(ClientProcess.C_BUILD.resolve("reader").toString(), name, "4").redirectErrorStream(true).start();
        cleanup.add(reader::destroyForcibly);
        List<String> texts = List.of("hello", "hello again", "from C, read by Java");
        for (String text : texts) {
            var r = ClientProcess.run(List.of(ClientProcess.C_BUILD.resolve("updater").toString(), name, text), Map.of(), Duration.ofSeconds(30));
            assertThat(r.exit()).as(r.output()).isZero();
            Thread.sleep(300); // the reader polls every 20 ms
        }
        try (SharedRegion r = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, RegionOptions.defaults())) {
            SeqRecord record = SeqRecord.attach(r, 0);
            MemorySegment copy = Arena.ofAuto().allocate(record.payloadSize());
            assertThat(record.read(copy)).isEqualTo(3);
            assertThat(copy.getString(0)).isEqualTo("from C, read by Java");
        }
        var py = ClientProcess.run(List.of("python3", "-m", "panmap_region", "read", name, "0", "--text"), ClientProcess.pythonEnv(),
            Duration.ofSeconds(30));
        assertThat(py.output().strip()).isEqualTo("version 3: from C, read by Java");
        assertThat(reader.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        String out = new String(reader.getInputStream().readAllBytes());
        assertThat(out).contains("version 1: hello\n", "version 2: hello again\n", "version 3: from C, read by Java\n");
    }

    @Test
    void pythonInspectShowsTheHeaderTheLockAndTheAttached() {
        String name = Names.unique("xlang-inspect");
        SharedRegion region = create(name, Addressing.DIRECT, 1 << 16, 1 << 20);
        region.writerLock().lock();
        try {
            var r = ClientProcess.run(List.of("python3", "-m", "panmap_region", "inspect", name), ClientProcess.pythonEnv(), Duration.ofSeconds(30));
            assertThat(r.exit()).as(r.output()).isZero();
            assertThat(r.output())
                .contains("layout       version 3; header 4096 bytes")
                .contains("65536 bytes of data")
                .contains("DIRECT at base 0x" + Long.toHexString(region.baseAddress()))
                .contains("writer lock  held by pid " + ProcessHandle.current().pid())
                .contains("attached     1 alive, 64 slots");
        } finally {
            region.writerLock().unlock();
        }
        var missing = ClientProcess.run(List.of("python3", "-m", "panmap_region", "inspect", name + "-missing"), ClientProcess.pythonEnv(),
            Duration.ofSeconds(30));
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.output()).startsWith("panmap_region: NOT_FOUND: ");
    }
}
