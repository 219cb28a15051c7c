package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.GrowthChild;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * How a grow is published, across real processes ({@link GrowthChild}): the grower stores the new
 * size, then the generation; a process that looks (segment(), an attach) takes the generation, then
 * the size. Either order reversed leaves a process with a generation whose size it never maps, for
 * good: these tests see it.
 */
@LinuxOnly // child JVMs and /dev/shm
class GrowthPublicationTest {
    private static final long KIB = 1024;
    private final List<String> names = new ArrayList<>();

    @AfterEach
    void removeRegions() {
        for (String n : names) {
            try {
                SharedRegion.remove(n);
            } catch (RegionException ignored) {
                // gone already
            }
        }
    }

    private String create(Addressing addressing) {
        String name = Names.unique("growpub");
        names.add(name);
        SharedRegion.create(name, RegionOptions.defaults().size(64 * KIB).maxSize(32 * 1024 * KIB).addressing(addressing)).close();
        return name;
    }

    /**
     * The grower pauses 20 ms between its two stores (a test point), 25 times, while two processes look
     * without pause; when it is done, each must have mapped the final size under the final generation.
     * With the stores reversed, a look inside a pause takes the new generation with the old size.
     */
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void aProcessThatLooksDuringAGrowIsNeverLeftBehind(Addressing addressing) {
        String name = create(addressing);
        List<ChildJvm> followers = new ArrayList<>();
        try (ChildJvm grower = ChildJvm.start(List.of("--enable-native-access=ALL-UNNAMED", "-Dpanmap.testPoints=true"),
                 GrowthChild.class, "grow", name, "25", "20")) {
            for (int i = 0; i < 2; i++) {
                ChildJvm f = ChildJvm.start(GrowthChild.class, "follow", name);
                followers.add(f);
                f.awaitLine("READY"::equals, Duration.ofSeconds(30));
            }
            grower.awaitLine("READY"::equals, Duration.ofSeconds(30));
            String grew = grower.awaitPrefix("GREW ", Duration.ofSeconds(60));
            for (ChildJvm f : followers) {
                f.send("stop");
                String fin = f.awaitPrefix("FINAL ", Duration.ofSeconds(30));
                System.out.println(addressing + " grower " + grew + "; follower " + f.pid() + " " + fin);
                assertThat(fin).as("a follower of %s", grew).startsWith(grew + " looks=");
            }
        } finally {
            followers.forEach(ChildJvm::close);
        }
    }

    /**
     * A grower grows one page at a time without pause while two processes attach and close in a loop
     * for 3 s: no attach may map less than its generation implies (an attach that took the generation
     * after the size did so 21-31 times in such a run). The 3 s are a child's work, so they scale with
     * {@code PANMAP_TIMEOUT_FACTOR} (under QEMU, 3 s gave 2 attaches against the floor of 50).
     */
    @ParameterizedTest
    @EnumSource(Addressing.class)
    void anAttachDuringGrowthIsNeverStale(Addressing addressing) throws InterruptedException {
        String name = create(addressing);
        List<ChildJvm> attachers = new ArrayList<>();
        try (ChildJvm grower = ChildJvm.start(GrowthChild.class, "grow", name, "0", "0")) {
            for (int i = 0; i < 2; i++) {
                ChildJvm a = ChildJvm.start(GrowthChild.class, "attach", name, Long.toString(64 * KIB));
                attachers.add(a);
                a.awaitLine("READY"::equals, Duration.ofSeconds(30));
            }
            grower.awaitLine("READY"::equals, Duration.ofSeconds(30));
            grower.send("go");
            Thread.sleep(ChildJvm.scaled(Duration.ofSeconds(3)).toMillis());
            attachers.forEach(a -> a.send("stop"));
            int total = 0;
            int generations = 0;
            for (ChildJvm a : attachers) {
                String line = a.awaitPrefix("ATTACHES ", Duration.ofSeconds(60));
                System.out.println(addressing + " attacher " + a.pid() + ": " + line);
                assertThat(line).contains(" stale=0 ");
                total += Integer.parseInt(line.substring(2, line.indexOf(' ')));
                generations += Integer.parseInt(line.substring(line.indexOf("generations=") + "generations=".length()));
            }
            grower.send("stop");
            System.out.println(addressing + " grower " + grower.awaitPrefix("GREW ", Duration.ofSeconds(60)));
            assertThat(total).as("attaches made while it grew").isGreaterThan(50);
            assertThat(generations).as("generations the attaches saw: they overlapped the growth").isGreaterThan(10);
        } finally {
            attachers.forEach(ChildJvm::close);
        }
    }
}
