package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.Names;
import dev.panmap.testing.RegionChild;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A primary in this JVM and secondaries in child JVMs share a region: both backings, both modes. */
class CrossProcessRegionTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    @TempDir
    Path dir;

    private record Opened(SharedRegion region, String kind, String name) {}

    private Opened create(String backing, Addressing addressing) {
        RegionOptions options = RegionOptions.defaults().size(1 << 16).addressing(addressing);
        if (backing.equals("file")) {
            Path file = dir.resolve("region-" + addressing);
            return new Opened(SharedRegion.openFile(file, OpenMode.CREATE_ONLY, options), "file", file.toString());
        }
        String name = Names.unique("xproc");
        return new Opened(SharedRegion.create(name, options), "shm", name);
    }

    private static void cleanup(Opened o) {
        o.region.close();
        if (o.kind.equals("shm")) {
            SharedRegion.remove(o.name);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"shm, OFFSET", "shm, DIRECT", "file, OFFSET", "file, DIRECT"})
    void writesAreSeenBothWays(String backing, Addressing addressing) throws Exception {
        Opened o = create(backing, addressing);
        try (ChildJvm child = ChildJvm.start(RegionChild.class)) {
            child.awaitPrefix("READY", WAIT);
            child.send("open " + o.kind + " " + o.name + " OPEN_ONLY");
            String opened = child.awaitPrefix("OPENED ", WAIT);
            assertThat(opened).contains("addressing=" + addressing).contains("size=" + (1 << 16));

            if (addressing == Addressing.DIRECT) {
                String base = Long.toHexString(o.region.baseAddress());
                assertThat(opened).as("the child maps a DIRECT region at the primary's base").contains("base=" + base + " ");
                assertThat(o.region.recordedBaseAddress()).isEqualTo(o.region.baseAddress());
                if (OS.LINUX.isCurrentOs()) {
                    String maps = Files.readAllLines(Path.of("/proc/" + child.pid() + "/maps")).stream()
                        .filter(l -> l.startsWith(base + "-")).findFirst().orElse("");
                    assertThat(maps).as("/proc/<child>/maps has the mapping at the base").contains(backing.equals("file") ? o.name : o.name.substring(1));
                }
            }

            // parent -> child
            LONG.setVolatile(o.region.segment(), 128L, 0xC0FFEEL);
            child.send("await 128 " + 0xC0FFEEL);
            assertThat(child.awaitLine(l -> l.equals("SEEN") || l.equals("TIMEOUT"), WAIT)).isEqualTo("SEEN");

            // child -> parent
            child.send("put 256 777");
            child.awaitLine("OK"::equals, WAIT);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while ((long) LONG.getVolatile(o.region.segment(), 256L) != 777 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat((long) LONG.getVolatile(o.region.segment(), 256L)).isEqualTo(777);

            // the child is registered in the attach table while attached
            assertThat(o.region.attachedProcesses()).extracting(ProcessInfo::pid).contains((int) child.pid());
            child.send("close");
            child.awaitLine("CLOSED"::equals, WAIT);
            assertThat(o.region.attachedProcesses()).extracting(ProcessInfo::pid).doesNotContain((int) child.pid());
        } finally {
            cleanup(o);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"DIRECT", "OFFSET"})
    void aReferenceStoredByOneProcessIsFollowedByAnother(Addressing addressing) {
        Opened o = create("shm", addressing);
        try (ChildJvm child = ChildJvm.start(RegionChild.class)) {
            References refs = o.region.references();
            assertThat(refs.isDirect()).isEqualTo(addressing == Addressing.DIRECT);
            o.region.segment().set(ValueLayout.JAVA_LONG, 4096, 31337);
            long ref = refs.toRef(4096);
            o.region.segment().set(ValueLayout.JAVA_LONG, 0, ref);
            if (addressing == Addressing.DIRECT) {
                assertThat(ref).as("a DIRECT reference is the absolute address").isEqualTo(o.region.address(4096));
            } else {
                assertThat(ref).as("an OFFSET reference is the distance from the region start").isEqualTo(o.region.dataOffset() + 4096);
            }
            child.awaitPrefix("READY", WAIT);
            child.send("open shm " + o.name + " OPEN_ONLY");
            child.awaitPrefix("OPENED ", WAIT);
            child.send("follow 0");
            assertThat(child.awaitPrefix("FOLLOWED ", WAIT)).startsWith("31337 ");

            // and the other way: the child stores a reference, the parent follows it
            o.region.segment().set(ValueLayout.JAVA_LONG, 8192, 4242);
            child.send("storeref 8 8192");
            child.awaitLine("OK"::equals, WAIT);
            long childRef = o.region.segment().get(ValueLayout.JAVA_LONG, 8);
            assertThat(o.region.segment().get(ValueLayout.JAVA_LONG, o.region.offset(refs.address(childRef)))).isEqualTo(4242);
        } finally {
            cleanup(o);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"false", "true"})
    void aTakenBaseIsAnErrorOrWithPermissionAnOffsetFallback(boolean fallback) {
        // the child maps something of its own at the base first: open the same DIRECT region twice
        Opened o = create("shm", Addressing.DIRECT);
        try (ChildJvm child = ChildJvm.start(RegionChild.class)) {
            o.region.segment().set(ValueLayout.JAVA_LONG, 4096, 99);
            o.region.segment().set(ValueLayout.JAVA_LONG, 0, o.region.references().toRef(4096));
            child.awaitPrefix("READY", WAIT);
            child.send("open shm " + o.name + " OPEN_ONLY");
            child.awaitPrefix("OPENED ", WAIT);
            child.send("open shm " + o.name + " OPEN_ONLY" + (fallback ? " fallback" : ""));
            String base = Long.toHexString(o.region.baseAddress());
            if (fallback) {
                String opened = child.awaitPrefix("OPENED ", WAIT);
                assertThat(opened).contains("fallback=true").doesNotContain("base=" + base + " ");
                child.send("follow 0");
                assertThat(child.awaitPrefix("FOLLOWED ", WAIT)).startsWith("99 ");
            } else {
                String error = child.awaitPrefix("ERROR ", WAIT);
                if (OS.WINDOWS.isCurrentOs()) {
                    assertThat(error).startsWith("ADDRESS_IN_USE MapViewOfFileEx(").contains("0x" + base).contains("ERROR_INVALID_ADDRESS")
                        .contains("occupied by panmap's own DIRECT mapping of section").contains("open in this process");
                } else {
                    assertThat(error).startsWith("ADDRESS_IN_USE mmap(0x" + base).contains("MAP_FIXED_NOREPLACE")
                        .contains("EEXIST").contains("occupied by panmap's own DIRECT mapping of shm \"" + o.name + "\" at 0x" + base + "-")
                        .contains("open in this process");
                }
            }
        } finally {
            cleanup(o);
        }
    }
}
