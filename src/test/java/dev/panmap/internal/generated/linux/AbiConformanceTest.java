package dev.panmap.internal.generated.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.testing.LinuxOnly;
import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated bindings against the real system headers: a C probe, written from the symbol list
 * and the generated struct layouts and compiled with this machine's C compiler at test time, prints
 * every constant and every struct size, field offset and field size; each must equal what the
 * generated Java says: on x86_64 that of {@code dev.panmap.internal.generated.linux}, on aarch64
 * that of {@code dev.panmap.internal.generated.linux_aarch64}. Skipped, with the reason, where there
 * is no C compiler.
 */
@LinuxOnly
class AbiConformanceTest {
    private static final Path HEADERS = Path.of("native-headers", "linux");
    /** The generated package of this machine's architecture. */
    private static final String PACKAGE = System.getProperty("os.arch").equals("aarch64")
        ? "dev.panmap.internal.generated.linux_aarch64" : AbiConformanceTest.class.getPackageName();

    @TempDir
    static Path work;

    private static Map<String, Long> seenByC;
    private static List<String> constants;
    private static List<String> structs;

    /** Why the probe cannot run here, or null: said by each test's skip (a skip in @BeforeAll reports no test at all). */
    private static String cannotRun;

    @BeforeEach
    void probeRan() {
        assumeTrue(cannotRun == null, cannotRun);
    }

    @BeforeAll
    static void compileAndRunProbe() throws Exception {
        Optional<String> cc = compiler();
        if (cc.isEmpty()) {
            cannotRun = "no C compiler (cc, gcc or clang) on PATH: the ABI conformance check cannot run here";
            return;
        }
        List<String> symbols = Files.readAllLines(HEADERS.resolve("symbols.txt"));
        constants = names(symbols, "--include-constant");
        structs = names(symbols, "--include-struct");

        StringBuilder c = new StringBuilder("""
            #include "panmap_linux.h"
            #include <stddef.h>
            #include <stdio.h>
            int main(void) {
            """);
        for (String k : constants) {
            c.append("  printf(\"%s %lld\\n\", \"const.").append(k).append("\", (long long)(").append(k).append("));\n");
        }
        for (String s : structs) {
            c.append("  printf(\"%s %lld\\n\", \"sizeof.").append(s).append("\", (long long)sizeof(struct ").append(s).append("));\n");
            for (MemoryLayout m : layout(s).memberLayouts()) {
                if (m instanceof PaddingLayout || m.name().isEmpty()) {
                    continue;
                }
                String f = m.name().get();
                c.append("  printf(\"%s %lld\\n\", \"offsetof.").append(s).append('.').append(f)
                    .append("\", (long long)offsetof(struct ").append(s).append(", ").append(f).append("));\n");
                if (m.byteSize() == 0) {
                    continue; // a flexible array member (cmsghdr's data): C has no sizeof for it, its offset is checked
                }
                c.append("  printf(\"%s %lld\\n\", \"sizeof.").append(s).append('.').append(f)
                    .append("\", (long long)sizeof(((struct ").append(s).append(" *)0)->").append(f).append("));\n");
            }
        }
        c.append("  return 0;\n}\n");
        Path source = work.resolve("probe.c");
        Path binary = work.resolve("probe");
        Files.writeString(source, c);
        run(List.of(cc.get(), "-I", HEADERS.toAbsolutePath().toString(), "-o", binary.toString(), source.toString()));
        seenByC = new LinkedHashMap<>();
        for (String line : run(List.of(binary.toString()))) {
            String[] kv = line.split(" ");
            seenByC.put(kv[0], Long.parseLong(kv[1]));
        }
    }

    @Test
    void everyGeneratedConstantEqualsTheCHeaders() throws Exception {
        assertThat(constants).hasSizeGreaterThan(50);
        SoftAssertions soft = new SoftAssertions();
        for (String k : constants) {
            Object value = Class.forName(PACKAGE + ".Libc").getMethod(k).invoke(null);
            long c = seenByC.get("const." + k);
            // an unsigned 32-bit C constant (HUGETLBFS_MAGIC) comes out as a negative Java int: compare its bits
            long java = value instanceof Integer i && c > Integer.MAX_VALUE ? Integer.toUnsignedLong(i) : ((Number) value).longValue();
            soft.assertThat(java).as(k).isEqualTo(c);
        }
        soft.assertAll();
    }

    @Test
    void everyGeneratedStructMatchesTheCCompilersLayout() {
        assertThat(structs).contains("stat", "timespec", "flock", "msghdr", "cmsghdr", "ucred", "sockaddr_un", "statfs");
        SoftAssertions soft = new SoftAssertions();
        for (String s : structs) {
            GroupLayout layout = layout(s);
            soft.assertThat(layout.byteSize()).as("sizeof(struct %s)", s).isEqualTo(seenByC.get("sizeof." + s));
            long offset = 0;
            for (MemoryLayout m : layout.memberLayouts()) {
                if (!(m instanceof PaddingLayout) && m.name().isPresent()) {
                    String f = m.name().get();
                    soft.assertThat(offset).as("offsetof(struct %s, %s)", s, f).isEqualTo(seenByC.get("offsetof." + s + "." + f));
                    if (m.byteSize() != 0) {
                        soft.assertThat(m.byteSize()).as("sizeof(struct %s.%s)", s, f).isEqualTo(seenByC.get("sizeof." + s + "." + f));
                    }
                }
                offset += m.byteSize();
            }
        }
        soft.assertAll();
    }

    private static GroupLayout layout(String struct) {
        return layout(PACKAGE, struct);
    }

    /** {@return the generated layout of {@code struct} in a generated package} */
    static GroupLayout layout(String generatedPackage, String struct) {
        try {
            // jextract names each struct's class after it, in its package
            return (GroupLayout) Class.forName(generatedPackage + "." + struct).getMethod("layout").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no generated class for struct " + struct, e);
        }
    }

    static List<String> names(List<String> argfile, String option) {
        List<String> out = new ArrayList<>();
        for (String line : argfile) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2 && parts[0].equals(option)) {
                out.add(parts[1]);
            }
        }
        return out;
    }

    private static Optional<String> compiler() {
        for (String cc : List.of("cc", "gcc", "clang")) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, cc))) {
                    return Optional.of(Path.of(dir, cc).toString());
                }
            }
        }
        return Optional.empty();
    }

    private static List<String> run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(command + " failed:\n" + out);
        }
        return out.lines().toList();
    }
}
