package dev.panmap.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.ErrorKind;
import dev.panmap.OpenMode;
import dev.panmap.RegionException;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.clients.ClientProcess.Kind;
import dev.panmap.clients.FormatSpecTest.Refusal;
import dev.panmap.internal.RegionLayout;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every refusal of FORMAT.md §7, by its rule id, made to happen and put to Java, the C client (built
 * with AddressSanitizer) and the Python client: each must refuse with the kind the document gives. The
 * document's rule ids and this test's scenarios must be the same set, so a rule added to §7 without a
 * scenario, or a scenario without a rule, fails here. (FormatSpecTest checks the other direction: that
 * every refusal in Java's attach code is a row of §7.)
 */
@LinuxOnly
class RefusalTest {
    /** A DIRECT base that AddressSanitizer leaves free on x86_64 and aarch64. */
    private static final long BASE = CrossLanguageTest.TEST_BASE;

    @TempDir
    Path dir;

    @RegisterExtension
    final Closer cleanup = new Closer();


    /** What a scenario hands to the three: a file path or an shm name, and whether the open is writable. */
    private record Target(boolean file, String name, boolean writable) {
        String command() {
            return "open " + (file ? "file " : "shm ") + name + (writable ? " rw" : " ro");
        }
    }

    /**
     * How to make a rule happen, and where the outcome differs from the document's kind ({@code javaDiffers}
     * null: the document's). {@code fresh}: made anew for each of the three (the scenario uses itself up).
     */
    private record Scenario(java.util.function.Supplier<Target> make, String javaDiffers, Map<Kind, String> clientsDiffer, boolean fresh) {
        Scenario(java.util.function.Supplier<Target> make, String javaDiffers, Map<Kind, String> clientsDiffer) {
            this(make, javaDiffers, clientsDiffer, false);
        }
    }

    private Map<String, Scenario> scenarios() {
        Map<String, Scenario> s = new TreeMap<>();
        s.put("O1", new Scenario(() -> new Target(false, Names.unique("never-created"), false), null, Map.of()));
        s.put("O2", new Scenario(() -> {
            Path region = validFile("linked", h -> {});
            Path link = dir.resolve("link");
            try {
                Files.createSymbolicLink(link, region);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            return new Target(true, link.toString(), false);
        }, null, Map.of()));
        s.put("O3", new Scenario(() -> {
            Path fifo = dir.resolve("fifo");
            run("mkfifo", fifo.toString());
            return new Target(true, fifo.toString(), false);
        }, null, Map.of()));
        s.put("H1", new Scenario(() -> bytesFile("short", new byte[100]), null, Map.of()));
        s.put("H2", new Scenario(() -> bytesFile("empty", new byte[0]), null, Map.of()));
        s.put("H3", new Scenario(() -> {
            byte[] b = new byte[8192];
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(RegionLayout.CREATOR_PID_OFFSET, Integer.MAX_VALUE - 7);
            return bytesFile("unfinished", b);
        }, null, Map.of()));
        // a creation in progress (magic 0, no pid) whose object is removed while the attacher waits
        s.put("H20", new Scenario(() -> {
            Target t = bytesFile("removed", new byte[8192]);
            Thread remover = new Thread(() -> {
                try {
                    Thread.sleep(150);
                    Files.delete(Path.of(t.name()));
                } catch (IOException | InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            remover.start();
            cleanup.add(remover::join);
            return t;
        }, null, Map.of(), true));
        s.put("H4", header("magic", h -> h.putLong(RegionLayout.MAGIC_OFFSET, 0x1122334455667788L), false));
        s.put("H5", header("version", h -> h.putInt(RegionLayout.VERSION_OFFSET, RegionLayout.LAYOUT_VERSION + 1), true));
        s.put("H6", header("checksum", h -> h.putLong(RegionLayout.CREATED_MILLIS_OFFSET, h.getLong(RegionLayout.CREATED_MILLIS_OFFSET) ^ 1), false));
        s.put("H7", header("capacity", h -> h.putInt(RegionLayout.ATTACH_CAPACITY_OFFSET, 0), true));
        s.put("H8", header("header-size", h -> h.putInt(RegionLayout.HEADER_SIZE_OFFSET, 8192), true));
        s.put("H9", header("data-size", h -> {
            h.putLong(RegionLayout.DATA_SIZE_OFFSET, 100);
            h.putLong(RegionLayout.REGION_SIZE_OFFSET, 4096 + 100);
        }, true));
        s.put("H10", header("region-size", h -> h.putLong(RegionLayout.REGION_SIZE_OFFSET, h.getLong(RegionLayout.REGION_SIZE_OFFSET) + 4096), true));
        s.put("H11", header("span-small", h -> h.putLong(RegionLayout.RESERVED_SPAN_OFFSET, h.getLong(RegionLayout.REGION_SIZE_OFFSET) - 4096), true));
        s.put("H12", header("span-pages", h -> h.putLong(RegionLayout.RESERVED_SPAN_OFFSET, h.getLong(RegionLayout.RESERVED_SPAN_OFFSET) + 100), true));
        s.put("H13", header("span-big", h -> h.putLong(RegionLayout.RESERVED_SPAN_OFFSET, RegionLayout.MAX_RESERVED_SPAN + 4096), true));
        s.put("H14", header("current", h -> h.putLong(RegionLayout.CURRENT_SIZE_OFFSET, h.getLong(RegionLayout.RESERVED_SPAN_OFFSET) + 4096), true));
        s.put("H15", header("addressing", h -> h.putInt(RegionLayout.ADDRESSING_OFFSET, 2), true));
        s.put("H16", header("base-low", h -> h.putLong(RegionLayout.BASE_ADDRESS_OFFSET, 0x1000), true));
        s.put("H17", header("base-aligned", h -> h.putLong(RegionLayout.BASE_ADDRESS_OFFSET, BASE + 0x800), true));
        s.put("H18", header("base-end", h -> h.putLong(RegionLayout.BASE_ADDRESS_OFFSET, RegionLayout.USER_SPACE_END - 4096), true));
        s.put("H19", new Scenario(() -> {
            Path p = validFile("truncated", h -> {});
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() - 4096);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            return new Target(true, p.toString(), false);
        }, null, Map.of()));
        // the base is taken in the opening process: Java and C hold the region open at its base already
        // (this JVM, and the driver's first open); Python maps every region anywhere, so it opens
        s.put("M1", new Scenario(() -> {
            String name = Names.unique("m1");
            SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16).addressing(Addressing.DIRECT).baseAddress(BASE + (1L << 36)));
            cleanup.add(() -> {
                r.close();
                SharedRegion.remove(name);
            });
            return new Target(false, name, false);
        }, null, Map.of(Kind.PYTHON, "OPENS")));
        s.put("M2", new Scenario(() -> {
            String name = Names.unique("m2");
            SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 16).maxAttached(1));
            cleanup.add(() -> {
                r.close();
                SharedRegion.remove(name);
            });
            return new Target(false, name, true);
        }, null, Map.of()));
        return s;
    }

    private static void run(String... command) {
        var r = ClientProcess.run(List.of(command), Map.of(), Duration.ofSeconds(30));
        assertThat(r.exit()).as(r.output()).isZero();
    }

    private Target bytesFile(String name, byte[] bytes) {
        try {
            Path p = dir.resolve(name);
            Files.write(p, bytes);
            return new Target(true, p.toString(), false);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A valid DIRECT file region at {@link #BASE}, its header changed by {@code change}. */
    private Path validFile(String name, Consumer<ByteBuffer> change) {
        Path file = dir.resolve(name);
        try (SharedRegion r = SharedRegion.openFile(file, OpenMode.CREATE_ONLY,
            RegionOptions.defaults().size(1 << 16).maxSize(1 << 20).addressing(Addressing.DIRECT).baseAddress(BASE))) {
            r.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(RegionLayout.MIN_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(header, 0);
            change.accept(header);
            header.rewind();
            ch.write(header, 0);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return file;
    }

    /** A header changed by {@code change}; {@code reseal}: its checksum recomputed, so that the change meets its own rule. */
    private Scenario header(String name, Consumer<ByteBuffer> change, boolean reseal) {
        return new Scenario(() -> new Target(true, validFile(name, h -> {
            change.accept(h);
            if (reseal) {
                CRC32C crc = new CRC32C();
                crc.update(h.array(), RegionLayout.CHECKSUMMED_FROM, RegionLayout.CHECKSUM_OFFSET - RegionLayout.CHECKSUMMED_FROM);
                h.putInt(RegionLayout.CHECKSUM_OFFSET, (int) crc.getValue());
            }
        }).toString(), false), null, Map.of());
    }

    private static String java(Target t) {
        RegionOptions options = RegionOptions.defaults().attachTimeout(Duration.ofMillis(t.name().endsWith("removed") ? 3000 : 300));
        OpenMode mode = t.writable() ? OpenMode.OPEN_ONLY : OpenMode.OPEN_READ_ONLY;
        try (SharedRegion r = t.file() ? SharedRegion.openFile(Path.of(t.name()), mode, options) : SharedRegion.open(t.name(), mode, options)) {
            return "OPENS";
        } catch (RegionException e) {
            return e.kind().name();
        }
    }

    @Test
    void everyRuleOfSection7IsRefusedAlikeByJavaCAndPython() throws Exception {
        Map<String, Refusal> rules = new TreeMap<>();
        for (Refusal r : FormatSpecTest.refusals()) {
            rules.put(r.rule(), r);
        }
        Map<String, Scenario> scenarios = scenarios();
        assertThat(new TreeSet<>(scenarios.keySet())).as("a scenario for every rule of §7, and no other").isEqualTo(new TreeSet<>(rules.keySet()));
        ClientProcess c = ClientProcess.start(Kind.C);
        ClientProcess py = ClientProcess.start(Kind.PYTHON);
        cleanup.add(c);
        cleanup.add(py);
        List<String> wrong = new ArrayList<>();
        for (var e : scenarios.entrySet()) {
            Refusal rule = rules.get(e.getKey());
            String kind = rule.kind().startsWith("by errno") ? ErrorKind.NOT_FOUND.name() : rule.kind();
            Target t = e.getValue().make().get();
            String javaWants = e.getValue().javaDiffers() == null ? kind : e.getValue().javaDiffers().split(" ")[0];
            String got = java(t);
            if (!got.equals(javaWants)) {
                wrong.add(e.getKey() + " Java: " + got + ", expected " + javaWants);
            }
            if (e.getKey().equals("M1")) {
                c.expect(t.command(), "OPENED"); // the first open takes the base in the driver's process
            }
            for (ClientProcess client : List.of(c, py)) {
                if (e.getValue().fresh()) {
                    t = e.getValue().make().get();
                }
                String wants = e.getValue().clientsDiffer().getOrDefault(client.kind(), kind);
                String answer = client.ask(t.command());
                String outcome = answer.startsWith("OPENED") ? "OPENS" : answer.startsWith("ERROR ") ? answer.split(" ")[1] : answer;
                if (!outcome.equals(wants)) {
                    wrong.add(e.getKey() + " " + client.kind() + ": " + answer + ", expected " + wants);
                }
                if (outcome.equals("OPENS")) {
                    client.expect("close", "CLOSED");
                }
            }
        }
        assertThat(wrong).as("refusals that differ from §7").isEmpty();
        c.exitCleanly();
        py.exitCleanly();
    }
}
