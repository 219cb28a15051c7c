package dev.panmap.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the huge-page tests change on this machine, and put back: the 2 MiB hugetlb pool
 * ({@code /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages}), a hugetlbfs mount under a temp
 * directory, and the shmem transparent-huge-page setting. Needs root; {@link #require()} skips the
 * test with the reason otherwise. {@link #restore()} undoes every change in reverse order.
 */
public final class HugePageSystem {
    public static final Path POOL = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB");
    public static final Path SHMEM_ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
    public static final Path SHMEM_ENABLED_2M = Path.of("/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/shmem_enabled");

    private final List<Runnable> undo = new ArrayList<>();

    /** Skips the calling test unless this process can change the hugetlb pool and mount hugetlbfs. */
    public static void require() {
        skipUnless("root".equals(System.getProperty("user.name")), "huge-page tests reserve pages and mount hugetlbfs: they need root, this is "
            + System.getProperty("user.name"));
        skipUnless(Files.isWritable(POOL.resolve("nr_hugepages")), "no writable 2 MiB hugetlb pool (" + POOL + "): no hugetlb support here");
    }

    /** Skips the test with {@code reason}, printed too: a class-level skip does not show in Maven's summary. */
    private static void skipUnless(boolean condition, String reason) {
        if (!condition) {
            System.err.println("huge-page tests skipped: " + reason);
            assumeTrue(false, reason);
        }
    }

    /** {@return the free pages of the 2 MiB pool} */
    public static long freePages() {
        return Long.parseLong(read(POOL.resolve("free_hugepages")));
    }

    /** Grows the 2 MiB pool so that at least {@code pages} are free (beyond what it had); fails the test's assumption if the kernel cannot. */
    public void reserve(long pages) {
        String before = read(POOL.resolve("nr_hugepages"));
        long want = Long.parseLong(before) + Math.max(0, pages - freePages());
        write(POOL.resolve("nr_hugepages"), Long.toString(want));
        undo.add(() -> write(POOL.resolve("nr_hugepages"), before));
        if (freePages() < pages) {
            // memory full of clean page cache, in pieces smaller than 2 MiB: drop the clean cache (nothing
            // is lost, files are read again on demand), compact, and ask again
            write(Path.of("/proc/sys/vm/drop_caches"), "1");
            write(Path.of("/proc/sys/vm/compact_memory"), "1");
            write(POOL.resolve("nr_hugepages"), Long.toString(want));
        }
        if (freePages() < pages) {
            String reason = "the kernel gave only " + freePages() + " free 2 MiB huge pages of the " + pages + " asked for";
            System.err.println("huge-page tests skipped: " + reason);
            assumeTrue(false, reason);
        }
    }

    /** Mounts hugetlbfs (2 MiB pages) on a new directory under {@code parent}. */
    public Path mountHugetlbfs(Path parent) throws IOException {
        Path dir = Files.createDirectories(parent.resolve("hugetlbfs"));
        run("mount", "-t", "hugetlbfs", "-o", "pagesize=2M,mode=0755", "none", dir.toString());
        undo.add(() -> run("umount", dir.toString()));
        return dir;
    }

    /** Mounts a small tmpfs with {@code huge=HUGE} on a new directory under {@code parent}. */
    public Path mountTmpfs(Path parent, String huge) throws IOException {
        Path dir = Files.createDirectories(parent.resolve("tmpfs-" + huge));
        run("mount", "-t", "tmpfs", "-o", "size=64m,huge=" + huge, "tmpfs", dir.toString());
        undo.add(() -> {
            run("umount", dir.toString());
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return dir;
    }

    /** Sets the shmem transparent-huge-page policy ({@code never}, {@code advise}, ...), the 2 MiB one to inherit it. */
    public void shmemTransparentHugePages(String setting) {
        for (Path file : List.of(SHMEM_ENABLED_2M, SHMEM_ENABLED)) {
            if (Files.isWritable(file)) {
                String before = selected(read(file));
                write(file, file == SHMEM_ENABLED_2M ? "inherit" : setting);
                undo.add(() -> write(file, before));
            }
        }
    }

    /** Undoes every change, last first. */
    public void restore() {
        for (int i = undo.size() - 1; i >= 0; i--) {
            undo.get(i).run();
        }
        undo.clear();
    }

    private static String selected(String choices) {
        int open = choices.indexOf('[');
        return choices.substring(open + 1, choices.indexOf(']', open));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }

    private static void write(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + value + " to " + file, e);
        }
    }

    private static void run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", command) + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
