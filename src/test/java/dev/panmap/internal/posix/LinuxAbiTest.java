package dev.panmap.internal.posix;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The per-architecture bindings: {@link LinuxAbi} picks the right generated package by {@code os.arch},
 * reads {@code struct stat} at the offsets of that architecture's kernel ABI, and carries every constant
 * and struct in which the x86_64 and aarch64 packages differ (the rest of the code reads the x86_64
 * package, so anything that differs and is not carried here would be wrong on aarch64).
 */
class LinuxAbiTest {
    private static final String X86 = "dev.panmap.internal.generated.linux.";
    private static final String ARM = "dev.panmap.internal.generated.linux_aarch64.";

    @Test
    void theBindingsAreChosenByOsArch() {
        assertThat(LinuxAbi.forArch("amd64")).isSameAs(X86_64Abi.INSTANCE);
        assertThat(LinuxAbi.forArch("x86_64")).isSameAs(X86_64Abi.INSTANCE);
        assertThat(LinuxAbi.forArch("aarch64")).isSameAs(Aarch64Abi.INSTANCE);
        assertThat(LinuxAbi.forArch("arm")).isNull();
        assertThat(LinuxAbi.forArch("riscv64")).isNull();
        assertThat(LinuxAbi.forArch("ppc64le")).isNull();
        assertThat(LinuxAbi.forArch("")).isNull();
        assertThat(LinuxAbi.forArch("x86")).isNull();
        assertThat(LinuxAbi.CURRENT).isSameAs(LinuxAbi.forArch(System.getProperty("os.arch")));
    }

    /** aarch64's struct stat is the kernel's asm-generic one: 128 bytes, st_mode before a 4-byte st_nlink. */
    @Test
    void aarch64StatIsReadAtTheAsmGenericOffsets() {
        assertThat(Aarch64Abi.INSTANCE.statLayout().byteSize()).isEqualTo(128);
        assertThat(Aarch64Abi.INSTANCE.arch()).isEqualTo("aarch64");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(128);
            st.fill((byte) 0x5a); // padding and unread fields hold garbage
            st.set(ValueLayout.JAVA_LONG, 0, 0x0803L); // st_dev
            st.set(ValueLayout.JAVA_LONG, 8, 123456789L); // st_ino
            st.set(ValueLayout.JAVA_INT, 16, 0100640); // st_mode: regular, rw-r-----
            st.set(ValueLayout.JAVA_INT, 20, 3); // st_nlink (unsigned int)
            st.set(ValueLayout.JAVA_INT, 24, 1001); // st_uid
            st.set(ValueLayout.JAVA_INT, 28, 1002); // st_gid
            st.set(ValueLayout.JAVA_LONG, 48, 1L << 33); // st_size
            Posix.FileStatus s = Aarch64Abi.INSTANCE.fileStatus(st);
            assertThat(s).isEqualTo(new Posix.FileStatus(1L << 33, 0100640, 1001, 1002, true, 0x0803L, 123456789L, 3));
            assertThat(s.permissions()).isEqualTo(0640);
            st.set(ValueLayout.JAVA_INT, 16, 040700); // a directory
            assertThat(Aarch64Abi.INSTANCE.fileStatus(st).regularFile()).isFalse();
        }
    }

    /** x86_64's struct stat: 144 bytes, an 8-byte st_nlink before st_mode. */
    @Test
    void x86_64StatIsReadAtItsOwnOffsets() {
        assertThat(X86_64Abi.INSTANCE.statLayout().byteSize()).isEqualTo(144);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(144);
            st.fill((byte) 0x5a);
            st.set(ValueLayout.JAVA_LONG, 0, 0x0803L); // st_dev
            st.set(ValueLayout.JAVA_LONG, 8, 123456789L); // st_ino
            st.set(ValueLayout.JAVA_LONG, 16, 3L); // st_nlink (unsigned long)
            st.set(ValueLayout.JAVA_INT, 24, 0100640); // st_mode
            st.set(ValueLayout.JAVA_INT, 28, 1001); // st_uid
            st.set(ValueLayout.JAVA_INT, 32, 1002); // st_gid
            st.set(ValueLayout.JAVA_LONG, 48, 1L << 33); // st_size
            assertThat(X86_64Abi.INSTANCE.fileStatus(st))
                .isEqualTo(new Posix.FileStatus(1L << 33, 0100640, 1001, 1002, true, 0x0803L, 123456789L, 3));
        }
    }

    @Test
    void eachAbiCarriesItsOwnPackagesConstants() throws Exception {
        for (LinuxAbi abi : List.of(X86_64Abi.INSTANCE, Aarch64Abi.INSTANCE)) {
            String pkg = abi == X86_64Abi.INSTANCE ? X86 : ARM;
            assertThat(abi.oDirectory()).as(abi.arch()).isEqualTo(constant(pkg, "O_DIRECTORY"));
            assertThat(abi.oNoFollow()).as(abi.arch()).isEqualTo(constant(pkg, "O_NOFOLLOW"));
            assertThat(abi.sysFutex()).as(abi.arch()).isEqualTo(constant(pkg, "SYS_futex"));
        }
        assertThat(Aarch64Abi.INSTANCE.sysFutex()).isEqualTo(98);
        assertThat(X86_64Abi.INSTANCE.sysFutex()).isEqualTo(202);
        assertThat(Aarch64Abi.INSTANCE.oNoFollow()).isEqualTo(0x8000);
        assertThat(Aarch64Abi.INSTANCE.oDirectory()).isEqualTo(0x4000);
    }

    /**
     * What differs between the packages is exactly what {@link LinuxAbi} carries: a new constant, struct or
     * function in symbols.txt that differs by architecture fails here until it is routed through it.
     */
    @Test
    void theTwoPackagesDifferOnlyInWhatLinuxAbiCarries() throws Exception {
        Map<String, Object> x86 = values(X86), arm = values(ARM);
        assertThat(arm.keySet()).isEqualTo(x86.keySet());
        TreeSet<String> differ = new TreeSet<>();
        for (String k : x86.keySet()) {
            if (!x86.get(k).equals(arm.get(k))) {
                differ.add(k);
            }
        }
        assertThat(differ).containsExactly("O_DIRECTORY", "O_NOFOLLOW", "SYS_futex", "struct stat");
    }

    /** Outside LinuxAbi's implementations no main source reads what differs from the x86_64 package. */
    @Test
    void noOtherCodeReadsWhatDiffers() throws IOException {
        Pattern use = Pattern.compile("\\b(O_DIRECTORY|O_NOFOLLOW|SYS_futex)\\(\\)|generated\\.linux(_aarch64)?\\.stat\\b|\\bstat\\.st_");
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src", "main", "java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String name = f.toString().replace('\\', '/');
                if (name.contains("/generated/") || name.endsWith("/X86_64Abi.java") || name.endsWith("/Aarch64Abi.java")) {
                    continue;
                }
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (use.matcher(lines.get(i)).find()) {
                        found.add(name + ":" + (i + 1) + ": " + lines.get(i).trim());
                    }
                }
            }
        }
        assertThat(found).as("reads of architecture-dependent bindings outside LinuxAbi").isEmpty();
    }

    private static int constant(String pkg, String name) throws Exception {
        return (int) Class.forName(pkg + "Libc").getMethod(name).invoke(null);
    }

    /** Every constant's value, every function's descriptor and every struct's layout of a generated package. */
    private static Map<String, Object> values(String pkg) throws Exception {
        Map<String, Object> out = new TreeMap<>();
        Class<?> libc = Class.forName(pkg + "Libc");
        for (Method m : libc.getMethods()) {
            if (!Modifier.isStatic(m.getModifiers()) || m.getParameterCount() != 0) {
                continue;
            }
            if (m.getReturnType() == int.class || m.getReturnType() == long.class) {
                out.put(m.getName(), m.invoke(null));
            } else if (m.getReturnType() == FunctionDescriptor.class) {
                out.put(m.getName(), m.invoke(null).toString());
            }
        }
        for (String line : Files.readAllLines(Path.of("native-headers", "linux", "symbols.txt"))) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2 && parts[0].equals("--include-struct")) {
                out.put("struct " + parts[1], ((MemoryLayout) Class.forName(pkg + parts[1]).getMethod("layout").invoke(null)).toString());
            }
        }
        return out;
    }
}
