package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.Addressing;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.Requirement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code python3 -m panmap_region inspect --json} (the Python client, clients/python) prints what
 * {@code panmap inspect --json} prints for the same region: the same fields in the same order, with the
 * same values, but what each process touched of its own mapping (issue 24).
 */
@LinuxOnly
class PythonInspectJsonTest {
    /** The repository: this module's parent. */
    private static final Path REPO = Path.of("").toAbsolutePath().getParent();

    @Test
    void pythonInspectJsonIsJavasInspectJson() throws Exception {
        Requirement.pythonClientOrdering();
        String name = Names.unique("py-inspect");
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(1 << 20).maxSize(1 << 22)
                 .addressing(Addressing.DIRECT).baseAddress(0x5000_0000_0000L))) {
            r.grow(2 << 20);
            r.writerLock().lock();
            try {
                Cli.Result java = Cli.run("inspect", name, "--json");
                assertThat(java.exit()).as(java.toString()).isZero();
                String python = python(name);
                Map<String, Object> j = flatten("", JsonParser.parse(java.stdout().strip()));
                Map<String, Object> p = flatten("", JsonParser.parse(python.strip()));
                assertThat(p.keySet()).as("the same fields, in the same order").containsExactlyElementsOf(j.keySet());
                for (String key : j.keySet()) {
                    if (!key.equals("pages.residentBytes")) { // what each process touched of its own mapping
                        assertThat(p.get(key)).as(key).isEqualTo(j.get(key));
                    }
                }
                assertThat(j.get("lockHolder.pid")).isEqualTo(ProcessHandle.current().pid());
                assertThat(j).containsKeys("baseAddress", "mode", "owner", "generation");
            } finally {
                r.writerLock().unlock();
            }
        } finally {
            SharedRegion.remove(name);
        }
    }

    private static String python(String name) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("python3", "-m", "panmap_region", "inspect", name, "--json").redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", REPO.resolve("clients/python").toString());
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    /** {@code {"a":{"b":1},"c":[{"d":2}]}} as {@code a.b=1, c.0.d=2}, in order; numbers as longs. */
    private static Map<String, Object> flatten(String prefix, Object value) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (value instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.putAll(flatten(prefix + k + ".", v)));
        } else if (value instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                out.putAll(flatten(prefix + i + ".", l.get(i)));
            }
        } else {
            out.put(prefix.substring(0, prefix.length() - 1), value instanceof Number n ? (Object) n.longValue() : value);
        }
        return out;
    }
}
