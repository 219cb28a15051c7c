package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panmap.testing.LinuxOnly;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A raw region shares memory with a program that does not speak panmap: Python's shared_memory. */
@LinuxOnly
class RawInteropTest {
    private static final String PYTHON = """
        import sys
        from multiprocessing import shared_memory, resource_tracker
        shm = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=4096)
        # Python < 3.13 would unlink it at exit through its resource tracker: this test unlinks it itself
        resource_tracker.unregister(shm._name, "shared_memory")
        shm.buf[0:13] = b"hello, panmap"
        print("CREATED", flush=True)
        sys.stdin.readline()                      # Java has written by now
        print("READ", bytes(shm.buf[16:32]).rstrip(b"\\0").decode(), flush=True)
        shm.close()
        """;

    private static Path python() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, "python3");
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    @Test
    void javaAndPythonShareARawShmObject() throws Exception {
        Path python = python();
        assumeTrue(python != null, "python3 is not on PATH: the shared_memory interop test cannot run");
        String bare = "panmap-py-" + ProcessHandle.current().pid();
        Process p = new ProcessBuilder(python.toString(), "-c", PYTHON, bare).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter in = new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8)) {
            assertThat(out.readLine()).isEqualTo("CREATED");
            try (SharedRegion raw = SharedRegion.openRaw(bare, OpenMode.OPEN_ONLY, RegionOptions.defaults())) {
                assertThat(raw.isRaw()).isTrue();
                assertThat(raw.size()).isEqualTo(4096);
                assertThat(raw.segment().getString(0)).isEqualTo("hello, panmap");
                raw.segment().setString(16, "hello, python");
            }
            in.println("go");
            assertThat(out.readLine()).isEqualTo("READ hello, python");
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
            SharedRegion.remove(bare);
        }
    }

    @Test
    void aCreatedRawRegionHasNoHeader() {
        String name = dev.panmap.testing.Names.unique("raw");
        try (SharedRegion raw = SharedRegion.openRaw(name, OpenMode.CREATE_ONLY, RegionOptions.defaults().size(100))) {
            assertThat(raw.size()).isEqualTo(4096);
            assertThat(raw.dataOffset()).isZero();
            raw.segment().set(ValueLayout.JAVA_LONG, 0, 0x1234);
            assertThat(raw.attachedProcesses()).isEmpty();
            assertThat(raw.writerLock().tryLock()).isTrue();
            assertThat(raw.writerLock().holder()).isEmpty(); // no header: no holder record
            raw.writerLock().unlock();
        } finally {
            SharedRegion.remove(name);
        }
    }
}
