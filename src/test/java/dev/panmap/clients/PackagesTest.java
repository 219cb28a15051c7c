package dev.panmap.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.Requirement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The clients as packages people install (issue 24): the C library installed with {@code make install}
 * and an example built against it through pkg-config (shared, static, and under AddressSanitizer); the
 * Python package installed with pip into a fresh virtual environment under the build directory, where
 * its own tests (pytest) and {@code mypy --strict} run ({@code PythonInspectJsonTest}, beside the command
 * line, compares the two inspects' JSON). pytest, mypy and the build backend come
 * from PyPI into that environment, as test-time tools only: the package itself needs nothing but the
 * standard library.
 */
@LinuxOnly
class PackagesTest {
    static final Path WORK = ClientProcess.REPO.resolve("target/clients-packages");

    @RegisterExtension
    final Closer cleanup = new Closer();


    private static ClientProcess.Result run(Map<String, String> env, String... command) {
        var r = ClientProcess.run(List.of(command), env, Duration.ofMinutes(10));
        assertThat(r.exit()).as(String.join(" ", command) + "\n" + r.output()).isZero();
        return r;
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.exists(p)) {
            try (Stream<Path> s = Files.walk(p)) {
                s.sorted(Comparator.reverseOrder()).forEach(ClientProcess::deleteQuietly);
            }
        }
    }

    /** A region whose structures Java wrote ({@link CrossLanguageTest#javaStructures}). */
    private long[] regionWithStructures(String name, Addressing addressing, long base) {
        RegionOptions options = RegionOptions.defaults().size(1 << 20).addressing(addressing);
        if (base != 0) {
            options = options.baseAddress(base);
        }
        SharedRegion r = SharedRegion.create(name, options);
        cleanup.add(() -> {
            r.close();
            SharedRegion.remove(name);
        });
        return CrossLanguageTest.javaStructures(r);
    }

    @Test
    void theCLibraryInstallsWithPkgConfigAndAnExampleBuildsAndRunsAgainstIt() throws Exception {
        Path prefix = WORK.resolve("c-prefix");
        Path build = WORK.resolve("c-build");
        deleteTree(prefix);
        deleteTree(build);
        run(Map.of(), "make", "-s", "-C", ClientProcess.C_SOURCES.toString(), "OUT=" + build, "install", "PREFIX=" + prefix);
        Path lib = prefix.resolve("lib");
        for (String f : List.of("libpanmap_region.a", "libpanmap_region.so.1.0.0", "libpanmap_region.so.1", "libpanmap_region.so",
            "pkgconfig/panmap-region.pc")) {
            assertThat(lib.resolve(f)).as(f).exists();
        }
        assertThat(prefix.resolve("include/panmap_region.h")).exists();
        assertThat(Files.readSymbolicLink(lib.resolve("libpanmap_region.so.1"))).hasToString("libpanmap_region.so.1.0.0");
        assertThat(run(Map.of(), "objdump", "-p", lib.resolve("libpanmap_region.so.1.0.0").toString()).output())
            .containsPattern("SONAME\\s+libpanmap_region\\.so\\.1\\b");
        // only the API is exported: every dynamic symbol the library defines is pmr_*
        String symbols = run(Map.of(), "nm", "-D", "--defined-only", lib.resolve("libpanmap_region.so.1.0.0").toString()).output();
        assertThat(symbols.lines().filter(l -> l.contains(" T ")).map(l -> l.substring(l.lastIndexOf(' ') + 1)).toList())
            .isNotEmpty().allMatch(s -> s.startsWith("pmr_"));

        Map<String, String> env = Map.of("PKG_CONFIG_PATH", lib.resolve("pkgconfig").toString());
        assertThat(run(env, "pkg-config", "--modversion", "panmap-region").output().strip()).isEqualTo("1.0.0");
        String cflags = run(env, "pkg-config", "--cflags", "panmap-region").output().strip();
        String libs = run(env, "pkg-config", "--libs", "panmap-region").output().strip();
        Path example = ClientProcess.C_SOURCES.resolve("examples/lookup.c");
        Path shared = build.resolve("lookup-shared");
        Path statik = build.resolve("lookup-static");
        Path asan = build.resolve("lookup-asan");
        // built outside the source tree's include path: the installed header and library only
        run(env, "sh", "-c", "cc -std=c11 -Wall -Wextra -Werror " + cflags + " " + example + " -o " + shared + " " + libs);
        run(env, "sh", "-c", "cc -std=c11 -Wall -Wextra -Werror " + cflags + " " + example + " -o " + statik + " " + lib.resolve("libpanmap_region.a"));
        run(env, "sh", "-c", "cc -std=c11 -fsanitize=address -fno-omit-frame-pointer " + cflags + " " + example + " -o " + asan + " " + libs);
        assertThat(run(Map.of(), "objdump", "-p", shared.toString()).output()).contains("NEEDED               libpanmap_region.so.1");

        String name = Names.unique("pkg-lookup");
        long[] roots = regionWithStructures(name, Addressing.DIRECT, 0); // Java's default base: AddressSanitizer's allocator on x86_64
        Map<String, String> runEnv = Map.of("LD_LIBRARY_PATH", lib.toString(), "ASAN_OPTIONS", ClientProcess.asanOptions());
        for (Path program : List.of(shared, statik, asan)) {
            String list = run(runEnv, program.toString(), name, "list", Long.toString(roots[0])).output();
            assertThat(list.strip()).as(program.toString()).isEqualTo("nodes 100, sum 5050");
            String hash = run(runEnv, program.toString(), name, "hash", Long.toString(roots[1]), "7", "1000").output();
            assertThat(hash.lines()).as(program.toString()).containsExactly("7 -> 49", "1000 absent");
            String skip = run(runEnv, program.toString(), name, "skip", Long.toString(roots[2]), "70", "75", "5", "2000").output();
            assertThat(skip.lines()).as(program.toString()).containsExactly("70: -7, floor 70, ceiling 70", "75: absent, floor 70, ceiling 80",
                "5: absent, no floor, ceiling 10", "2000: absent, floor 1000, no ceiling");
        }
        // without the fallback, the sanitized program is told why the base cannot be had, before any mapping is tried
        String lookupAt = Files.readString(example);
        assertThat(lookupAt).contains("PMR_ALLOW_OFFSET_FALLBACK");
    }

    @Test
    void thePythonPackageInstallsIntoAFreshVenvWherePytestAndMypyStrictPass() throws Exception {
        Requirement.pythonClientOrdering(); // its own tests create regions
        Path venv = WORK.resolve("python-venv");
        deleteTree(venv);
        run(Map.of(), "python3", "-m", "venv", venv.toString());
        Path bin = venv.resolve("bin");
        Map<String, String> env = Map.of("PIP_DISABLE_PIP_VERSION_CHECK", "1", "PYTHONDONTWRITEBYTECODE", "1");
        // from a copy of the sources, as a fresh checkout has them: a build leaves build/ and *.egg-info where it runs
        Path sources = WORK.resolve("python-src");
        deleteTree(sources);
        run(Map.of(), "sh", "-c", "mkdir -p " + sources + " && cd " + ClientProcess.PYTHON + " && git ls-files -z | xargs -0 cp --parents -t " + sources);
        run(env, bin.resolve("pip").toString(), "install", "-q", sources.toString());
        assertThat(ClientProcess.PYTHON.resolve("build")).as("nothing built in the source tree").doesNotExist();
        // the installed package, not the source tree: imported from another directory
        String where = ClientProcess.run(List.of("sh", "-c", "cd / && " + bin.resolve("python") + " -c 'import panmap_region, importlib.resources as r; "
            + "print(panmap_region.__file__); print(r.files(\"panmap_region\").joinpath(\"py.typed\").is_file())'"), env, Duration.ofMinutes(2)).output();
        assertThat(where.lines()).hasSize(2);
        assertThat(where.lines().toList().get(0)).contains(venv.toString()).contains("site-packages");
        assertThat(where.lines().toList().get(1)).isEqualTo("True");
        Path distInfo;
        try (Stream<Path> s = Files.find(venv.resolve("lib"), 3, (p, a) -> p.getFileName().toString().equals("panmap_region-1.0.0.dist-info"))) {
            distInfo = s.findFirst().orElseThrow();
        }
        assertThat(Files.readString(distInfo.resolve("METADATA"))).contains("Name: panmap-region", "Version: 1.0.0", "License-Expression: Apache-2.0");
        assertThat(distInfo.resolve("licenses/LICENSE")).content().contains("Apache License", "Version 2.0, January 2004");
        assertThat(run(env, bin.resolve("panmap-region").toString(), "--help").output()).contains("inspect");

        run(env, bin.resolve("pip").toString(), "install", "-q", "pytest", "mypy");
        // the pytest script (not python -m, which would put the sources first on the path): the installed package is tested
        String pytest = run(env, "sh", "-c", "cd " + sources + " && " + bin.resolve("pytest") + " -q -p no:cacheprovider tests").output();
        assertThat(pytest).containsPattern("\\d+ passed").doesNotContain("failed", "error");
        String mypy = run(env, "sh", "-c", "cd " + sources + " && " + bin.resolve("mypy") + " --strict --cache-dir=/dev/null"
            + " panmap_region tests").output();
        assertThat(mypy).contains("Success: no issues found");
    }
}
