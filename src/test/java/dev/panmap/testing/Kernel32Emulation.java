package dev.panmap.testing;

import dev.panmap.internal.windows.WindowsPlatform;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * TEST SCAFFOLDING: the Windows backend's Java code run on Linux. Compiles
 * {@code src/test/native/emulation/kernel32_emu.c} (an emulation of the few kernel32/advapi32 calls of
 * {@code native-headers/windows/panmap_windows.h}, reporting Win32 error codes through {@code errno})
 * with gcc once per JVM, loads it, and builds {@link WindowsPlatform#over} it, capturing {@code errno}
 * where Windows captures {@code GetLastError}. The generated bindings open {@code kernel32} and
 * {@code advapi32} by name ({@code SymbolLookup.libraryLookup}, {@code dlopen("libkernel32.so")} here):
 * the emulation is built with that soname, and an empty library with the soname
 * {@code libadvapi32.so} beside it, and both are loaded before the bindings are first touched, so
 * that {@code dlopen} finds them loaded already. Call {@link #load()} before anything uses
 * {@code dev.panmap.internal.generated.windows.Win32}. Also binds the emulation's {@code emu_*} hooks: armed
 * failures, handle and view counts, what was recorded of an object.
 */
public final class Kernel32Emulation {
    private Kernel32Emulation() {}

    private static final Path SOURCE = Path.of("src", "test", "native", "emulation", "kernel32_emu.c");
    private static final Path HEADERS = Path.of("native-headers", "windows");
    /** A system property that names an emulation library already built (by the parent of a child JVM). */
    public static final String LIBRARY_PROPERTY = "panmap.test.kernel32emu";
    private static Path library;
    private static MethodHandle failNext;
    private static MethodHandle openHandles;
    private static MethodHandle liveViews;
    private static MethodHandle liveAllocations;
    private static MethodHandle sddlOf;
    private static MethodHandle protectOf;
    private static MethodHandle accessOf;
    private static MethodHandle sectionSize;
    private static MethodHandle calls;
    private static MethodHandle reset;

    /** {@return a Windows backend over the emulation} (compiled and loaded on first use) */
    public static synchronized WindowsPlatform platform() {
        load();
        return WindowsPlatform.over(Linker.nativeLinker(), "errno");
    }

    /** {@return the JVM option that lets a child JVM load the library this one built} */
    public static synchronized String childOption() {
        load();
        return "-D" + LIBRARY_PROPERTY + "=" + library;
    }

    /** Builds (once per JVM) and loads the emulation under the names the generated bindings open. */
    public static synchronized void load() {
        if (library != null) {
            return;
        }
        String built = System.getProperty(LIBRARY_PROPERTY);
        if (built != null) {
            System.load(advapiStub(Path.of(built)).toString());
            System.load(built);
            bind(Path.of(built));
            return;
        }
        Requirement.command("gcc", "gcc", "to build the kernel32 emulation");
        Path library;
        try {
            Path out = Path.of("target", "emulation");
            Files.createDirectories(out);
            library = out.resolve("libkernel32emu-" + ProcessHandle.current().pid() + ".so").toAbsolutePath();
            gcc(List.of("gcc", "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-Wl,-soname,libkernel32.so",
                "-I" + HEADERS.toAbsolutePath(), "-o", library.toString(), SOURCE.toAbsolutePath().toString(), "-lpthread"), null);
            Path stub = advapiStub(library);
            gcc(List.of("gcc", "-shared", "-fPIC", "-Wl,-soname,libadvapi32.so", "-o", stub.toString(), "-x", "c", "-"),
                "void panmap_advapi32_emulated_in_libkernel32(void) {}\n");
            System.load(stub.toString());
            System.load(library.toString());
            library.toFile().deleteOnExit();
            stub.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new IllegalStateException("cannot build the kernel32 emulation (gcc on PATH?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        bind(library);
    }

    /** {@return the empty stand-in for advapi32 beside the emulation} (whose functions the emulation has) */
    private static Path advapiStub(Path library) {
        return library.resolveSibling(library.getFileName().toString().replace("libkernel32emu", "libadvapi32stub"));
    }

    private static void gcc(List<String> command, String input) throws IOException, InterruptedException {
        Process gcc = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = gcc.getOutputStream()) {
            if (input != null) {
                in.write(input.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        String output = new String(gcc.getInputStream().readAllBytes());
        if (!gcc.waitFor(120, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            throw new IllegalStateException("compiling the kernel32 emulation failed: " + String.join(" ", command) + "\n" + output);
        }
    }

    private static void bind(Path loaded) {
        SymbolLookup lookup = SymbolLookup.loaderLookup();
        Linker linker = Linker.nativeLinker();
        failNext = linker.downcallHandle(lookup.find("emu_fail_next").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        openHandles = linker.downcallHandle(lookup.find("emu_open_handles").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        liveViews = linker.downcallHandle(lookup.find("emu_live_views").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        liveAllocations = linker.downcallHandle(lookup.find("emu_live_allocations").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        sddlOf = linker.downcallHandle(lookup.find("emu_sddl_of").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        protectOf = linker.downcallHandle(lookup.find("emu_protect_of").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        accessOf = linker.downcallHandle(lookup.find("emu_access_of").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        sectionSize = linker.downcallHandle(lookup.find("emu_section_size").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        calls = linker.downcallHandle(lookup.find("emu_calls").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        reset = linker.downcallHandle(lookup.find("emu_reset").orElseThrow(), FunctionDescriptor.ofVoid());
        library = loaded;
    }

    /**
     * Removes the emulation's objects in {@code /dev/shm} whose names contain {@code fragment} (a test
     * class's own name stem with this JVM's pid): a child killed holding a lock leaves its mutex's
     * file behind, as a dead process's object, until the next open of that name, which never comes.
     */
    public static void removeObjects(String fragment) {
        java.io.File[] leftovers = new java.io.File("/dev/shm").listFiles((d, n) -> n.startsWith("panmap-emu-") && n.contains(fragment));
        if (leftovers != null) {
            for (java.io.File f : leftovers) {
                f.delete();
            }
        }
    }

    /** The next call of {@code function} fails with {@code error} without doing anything. */
    public static void failNext(String function, int error) {
        try (Arena arena = Arena.ofConfined()) {
            failNext.invokeExact(arena.allocateFrom(function), error);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return how many emulated handles are open} */
    public static int openHandles() {
        try {
            return (int) openHandles.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return how many emulated views are mapped} */
    public static int liveViews() {
        try {
            return (int) liveViews.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return how many blocks the system allocated for the caller (SID strings, descriptors) are not yet LocalFree'd} */
    public static int liveAllocations() {
        try {
            return (int) liveAllocations.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return the SDDL recorded with an object, or null} */
    public static String sddlOf(MemorySegment handle) {
        try {
            MemorySegment s = (MemorySegment) sddlOf.invokeExact(handle);
            return s.equals(MemorySegment.NULL) ? null : s.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return the protection a section was created with} */
    public static int protectOf(MemorySegment section) {
        try {
            return (int) protectOf.invokeExact(section);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return the access a section handle was opened with} */
    public static int accessOf(MemorySegment section) {
        try {
            return (int) accessOf.invokeExact(section);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return the size of a section} */
    public static long sectionSize(MemorySegment section) {
        try {
            return (long) sectionSize.invokeExact(section);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return how many times an emulated function was called since the last reset} */
    public static int calls(String function) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) calls.invokeExact(arena.allocateFrom(function));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Clears the call counters and the armed failures. */
    public static void reset() {
        try {
            reset.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
