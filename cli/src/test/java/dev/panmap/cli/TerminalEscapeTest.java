package dev.panmap.cli;

import static dev.panmap.cli.CliTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import dev.panmap.testing.RegionNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 20: a region name with terminal escapes ({@code ESC [ 2 J} clears the screen; 0x9b is a CSI on
 * its own; U+202E reverses what follows) rewrote the operator's screen through {@code panmap list},
 * which printed names raw (main's code: the ESC byte reached stdout). Every line the command line
 * prints now passes through one escaping writer.
 */
@LinuxOnly
class TerminalEscapeTest {
    @RegisterExtension
    final RegionNames names = new RegionNames();

    @Test
    void namesWithTerminalEscapesArePrintedEscapedByListInspectAndErrors() {
        String name = names.next("esc") + "\u001b[2J\u009b31m\u202eevil";
        try (SharedRegion r = SharedRegion.create(name, RegionOptions.defaults().size(4096))) {
            String escaped = name.replace("\u001b", "\\x1b").replace("\u009b", "\\u009b").replace("\u202e", "\\u202e");
            for (Cli.Result result : new Cli.Result[] {ok("list"), ok("list", "--all"), ok("inspect", name), Cli.run("remove", name + "x")}) {
                String all = result.stdout() + result.stderr();
                assertThat(all).as(result.toString()).doesNotContain("\u001b").doesNotContain("\u009b").doesNotContain("\u202e")
                    .contains(escaped);
            }
            // JSON escapes by itself, as before
            assertThat(ok("list", "--json").stdout()).contains("\\u001b[2J");
        } finally {
            SharedRegion.remove(name); // the name with its escapes: RegionNames knows only the stem's
        }
    }
}
