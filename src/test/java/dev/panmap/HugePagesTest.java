package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.HugePageSystem;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.RegionChild;
import dev.panmap.testing.Requirement;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Huge pages, as the kernel reports them back ({@link SharedRegion#pageUsage()}): hugetlbfs file
 * regions and {@code MFD_HUGETLB} anonymous regions in both addressing modes, transparent huge pages
 * for named shared memory, and what {@link HugePages#PREFERRED} and {@link HugePages#REQUIRED} do
 * when there are none. The test reserves pages, mounts hugetlbfs and sets the shmem policy itself,
 * and puts everything back; without root it is skipped with the reason.
 */
@LinuxOnly
class HugePagesTest {
    private static final long HUGE = 2L << 20;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final HugePageSystem SYSTEM = new HugePageSystem();
    private static Path dir;
    private static Path mount;

    @BeforeAll
    static void reserveAndMount() throws IOException {
        HugePageSystem.require();
        dir = Files.createTempDirectory("panmap-huge");
        SYSTEM.reserve(16); // 32 MiB
        mount = SYSTEM.mountHugetlbfs(dir);
    }

    @AfterAll
    static void restore() throws IOException {
        SYSTEM.restore();
        if (dir != null) {
            Files.deleteIfExists(dir.resolve("hugetlbfs"));
            Files.deleteIfExists(dir);
        }
    }

    @AfterEach
    void noFilesLeft() throws IOException {
        try (var files = Files.list(mount)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
    }

    /** Touches one byte per page of the data area, so that the pages are mapped here and smaps counts them. */
    private static void touch(SharedRegion r) {
        MemorySegment data = r.segment();
        for (long at = 0; at < data.byteSize(); at += 4096) {
            data.get(ValueLayout.JAVA_BYTE, at);
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aFileOnHugetlbfsIsMadeOfItsHugePagesInEveryProcess(Addressing addressing) {
        Requirement.kernelPageAccounting("the page size and residency the kernel gave");
        Path file = mount.resolve("region-" + addressing);
        RegionOptions options = RegionOptions.defaults().size(3 << 20).addressing(addressing).hugePages(HugePages.REQUIRED);
        try (SharedRegion r = SharedRegion.openFile(file, OpenMode.CREATE_ONLY, options)) {
            assertThat(r.regionSize()).as("whole huge pages, header included").isEqualTo(2 * HUGE);
            assertThat(r.size()).isEqualTo(2 * HUGE - r.dataOffset());
            assertThat(r.baseAddress() % HUGE).as("the mapping starts on a huge page").isZero();
            assertThat(r.pageFallback()).isEmpty();
            r.segment().set(ValueLayout.JAVA_LONG, 64, 99);
            touch(r);
            PageUsage pages = r.pageUsage().orElseThrow();
            assertThat(pages.kernelPageSize()).as(pages.describe()).isEqualTo(HUGE);
            assertThat(pages.effectivePageSize()).isEqualTo(HUGE);
            assertThat(pages.residentBytes()).isEqualTo(2 * HUGE);

            try (ChildJvm child = ChildJvm.start(RegionChild.class)) {
                child.awaitPrefix("READY", WAIT);
                child.send("open file " + file + " OPEN_ONLY");
                String opened = child.awaitPrefix("OPENED ", WAIT);
                if (addressing == Addressing.DIRECT) {
                    assertThat(opened).contains("base=" + Long.toHexString(r.baseAddress()));
                }
                child.send("get 64");
                assertThat(child.awaitPrefix("VALUE ", WAIT)).isEqualTo("99");
                child.send("close");
                child.awaitLine("CLOSED"::equals, WAIT);
            }
        }
        // closed and reopened in this process: the mapping and its reservation are made and unmade in whole huge pages
        try (SharedRegion again = SharedRegion.openFile(file, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
            assertThat(again.segment().get(ValueLayout.JAVA_LONG, 64)).isEqualTo(99);
        }
    }

    @ParameterizedTest
    @EnumSource(Addressing.class)
    void anAnonymousRegionTakesHugetlbPagesAndSoDoesItsReceiver(Addressing addressing) throws Exception {
        Requirement.kernelPageAccounting("the page size and residency the kernel gave");
        RegionOptions options = RegionOptions.defaults().size(4 << 20).addressing(addressing).hugePages(HugePages.REQUIRED);
        Path socketPath = dir.resolve("huge-" + addressing + ".sock");
        try (SharedRegion r = SharedRegion.createAnonymous(options);
             RegionSocket socket = RegionSocket.listen(r, socketPath)) {
            touch(r);
            assertThat(r.pageUsage().orElseThrow().kernelPageSize()).isEqualTo(HUGE);
            assertThat(r.regionSize() % HUGE).isZero();
            r.segment().set(ValueLayout.JAVA_LONG, 0, 5);
            CompletableFuture<?> handed = CompletableFuture.supplyAsync(() -> socket.handOver(WAIT));
            try (SharedRegion received = SharedRegion.receive(socketPath, OpenMode.OPEN_ONLY, RegionOptions.defaults().allowOffsetFallback(true))) {
                handed.get();
                touch(received);
                assertThat(received.pageUsage().orElseThrow().kernelPageSize()).isEqualTo(HUGE);
                assertThat(received.segment().get(ValueLayout.JAVA_LONG, 0)).isEqualTo(5);
            }
        }
    }

    @Test
    void tooFewFreeHugePagesFailRequiredAndFallBackForPreferred() {
        Requirement.kernelPageAccounting("the page size and residency the kernel gave");
        long tooMany = (HugePageSystem.freePages() + 1) * HUGE;
        RegionOptions options = RegionOptions.defaults().size(tooMany);
        assertThatThrownBy(() -> SharedRegion.createAnonymous(options.hugePages(HugePages.REQUIRED)).close())
            .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NO_MEMORY))
            .hasMessageContaining("not enough free 2M huge pages").hasMessageContaining("nr_hugepages");
        try (SharedRegion r = SharedRegion.createAnonymous(options.hugePages(HugePages.PREFERRED))) {
            assertThat(r.pageFallback()).hasValueSatisfying(why -> assertThat(why).contains("not enough free 2M huge pages"));
            r.segment().get(ValueLayout.JAVA_BYTE, 0);
            assertThat(r.pageUsage().orElseThrow().kernelPageSize()).isEqualTo(4096);
        }
        // and on a hugetlbfs mount there is nothing to fall back to
        Path file = mount.resolve("too-big");
        assertThatThrownBy(() -> SharedRegion.openFile(file, OpenMode.CREATE_ONLY, options.hugePages(HugePages.PREFERRED)).close())
            .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NO_MEMORY));
        assertThat(file).doesNotExist();
    }

    @Test
    void aPageSizeTheKernelDoesNotOfferIsNotSupported() {
        RegionOptions options = RegionOptions.defaults().size(1 << 20).hugePageSize(4L << 20); // x86_64 has 2M and 1G only
        assertThatThrownBy(() -> SharedRegion.createAnonymous(options.hugePages(HugePages.REQUIRED)).close())
            .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_SUPPORTED))
            .hasMessageContaining("offers no 4M hugetlb pages");
        try (SharedRegion r = SharedRegion.createAnonymous(options.hugePages(HugePages.PREFERRED))) {
            assertThat(r.pageFallback()).hasValueSatisfying(why -> assertThat(why).contains("offers no 4M hugetlb pages"));
        }
    }

    @Test
    void aFileOnAnOrdinaryFileSystemCannotHaveThem() throws IOException {
        Path file = Files.createTempDirectory("panmap-disk").resolve("r");
        try {
            assertThatThrownBy(() -> SharedRegion.openFile(file, OpenMode.CREATE_ONLY,
                    RegionOptions.defaults().size(1 << 20).hugePages(HugePages.REQUIRED)).close())
                .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_SUPPORTED))
                .hasMessageContaining("neither on hugetlbfs nor on tmpfs");
            assertThat(file).doesNotExist();
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        }
    }

    @Test
    void namedSharedMemoryFollowsTheHugeOptionOfDevShm() {
        // /dev/shm here is mounted without huge= (never): named shared memory cannot have them
        String name = Names.unique("thp");
        RegionOptions options = RegionOptions.defaults().size(8 << 20);
        assertThatThrownBy(() -> SharedRegion.create(name, options.hugePages(HugePages.REQUIRED)).close())
            .isInstanceOfSatisfying(RegionException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_SUPPORTED))
            .hasMessageContaining("the tmpfs at /dev/shm is mounted with huge=never");
        try (SharedRegion r = SharedRegion.create(name, options.hugePages(HugePages.PREFERRED))) {
            assertThat(r.pageFallback()).hasValueSatisfying(why -> assertThat(why).contains("huge=never"));
        } finally {
            SharedRegion.remove(name);
        }
    }

    @Test
    void aTmpfsWithHugeAdviseGivesTransparentHugePagesToEveryMapping() throws IOException {
        Requirement.kernelPageAccounting("the page size and residency the kernel gave");
        HugePageSystem tmpfs = new HugePageSystem();
        try {
            Path file = tmpfs.mountTmpfs(dir, "advise").resolve("thp");
            try (SharedRegion r = SharedRegion.openFile(file, OpenMode.CREATE_ONLY,
                     RegionOptions.defaults().size(8 << 20).hugePages(HugePages.REQUIRED))) {
                assertThat(r.regionSize() % HUGE).isZero();
                PageUsage created = r.pageUsage().orElseThrow(); // the creator touched every page to reserve them
                assertThat(created.transparentHugeBytes()).as(created.describe()).isPositive();
                assertThat(created.effectivePageSize()).as(created.describe()).isEqualTo(HUGE);
                try (SharedRegion other = SharedRegion.openFile(file, OpenMode.OPEN_ONLY, RegionOptions.defaults().hugePages(HugePages.PREFERRED))) {
                    touch(other); // a second mapping, as another process makes it, asking too
                    PageUsage attached = other.pageUsage().orElseThrow();
                    assertThat(attached.transparentHugeBytes()).as(attached.describe()).isPositive();
                }
            }
        } finally {
            tmpfs.restore();
        }
    }

    @Test
    void anAnonymousRegionFallsBackToTransparentHugePagesWhereShmemEnabledAllows() {
        Requirement.kernelPageAccounting("the page size and residency the kernel gave");
        HugePageSystem thp = new HugePageSystem();
        try {
            thp.shmemTransparentHugePages("advise");
            long tooMany = (HugePageSystem.freePages() + 1) * HUGE;
            try (SharedRegion r = SharedRegion.createAnonymous(RegionOptions.defaults().size(tooMany).hugePages(HugePages.PREFERRED))) {
                assertThat(r.pageFallback()).hasValueSatisfying(why -> assertThat(why).contains("transparent huge pages instead"));
                PageUsage pages = r.pageUsage().orElseThrow();
                assertThat(pages.kernelPageSize()).isEqualTo(4096);
                assertThat(pages.transparentHugeBytes()).as(pages.describe()).isPositive();
            }
        } finally {
            thp.restore();
        }
    }
}
