package dev.panmap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panmap.testing.ChildJvm;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.MarkdownFences;
import dev.panmap.testing.MarkdownFences.Fence;
import dev.panmap.testing.RegionNames;
import dev.panmap.testing.Requirement;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The command-line transcripts of {@code docs/CLI.md} that are fenced as {@code ```console} are run,
 * in order, and what each command prints (stdout, then stderr) must match what the document shows.
 * Region names are replaced by unique ones (in the commands and the output alike); numbers, hex
 * addresses, dates and pids vary and match any digits; runs of blanks match any blanks. The
 * transcripts fenced as plain blocks need a terminal (Ctrl-C), root, hugetlbfs or a second process
 * running at the same time, and are not run.
 */
@LinuxOnly
class DocsExamplesTest {
    private static final Pattern NAME_WORD = Pattern.compile("\\b(orders|quotes|nothere)\\b");
    private static final Pattern VARIABLE = Pattern.compile("0x[0-9a-f]+|[0-9]+|\\s+");

    @RegisterExtension
    final RegionNames names = new RegionNames();

    @Test
    void theConsoleTranscriptsOfCliMdPrintWhatTheyShow() {
        Path doc = MarkdownFences.repositoryRoot().resolve("docs/CLI.md");
        List<Fence> transcripts = MarkdownFences.of(doc).stream().filter(f -> f.info().equals("console")).toList();
        assertTrue(transcripts.size() >= 2, "docs/CLI.md shows the create/inspect and the error transcripts as console blocks: "
            + transcripts.size());
        Map<String, String> renamed = new LinkedHashMap<>();
        List<String> mismatches = new ArrayList<>();
        ChildJvm background = null;
        try {
            for (Fence transcript : transcripts) {
                for (Step step : steps(transcript)) {
                    List<String> expected = step.output().stream().map(l -> owner(rename(l, renamed))).toList();
                    List<String> actual;
                    if (step.kind() == Step.Kind.KILL) {
                        assertTrue(background != null, doc + ":" + step.line() + ": kill with nothing in the background");
                        background.kill();
                        background = null;
                        actual = List.of();
                    } else if (step.kind() == Step.Kind.BACKGROUND) {
                        background = Cli.start(arguments(rename(step.command(), renamed)).toArray(String[]::new));
                        actual = new ArrayList<>();
                        for (int i = 0; i < expected.size(); i++) {
                            String line = background.pollLine(Cli.WAIT);
                            if (line == null) {
                                break;
                            }
                            actual.add(line);
                        }
                    } else {
                        List<String> args = arguments(rename(step.command(), renamed));
                        Cli.Result result = Cli.run(args.toArray(String[]::new));
                        actual = new ArrayList<>(result.stdoutLines());
                        actual.addAll(result.stderrLines());
                        if (args.get(0).equals("list")) {
                            actual = ours(actual, renamed);
                        }
                        actual = filter(actual, step.filters());
                    }
                    String problem = compare(expected, actual);
                    if (problem != null) {
                        mismatches.add(doc.getFileName() + ":" + step.line() + ": $ " + step.text() + "\n  " + problem
                            + "\n  shown:\n    " + String.join("\n    ", step.output()) + "\n  printed:\n    " + String.join("\n    ", actual));
                    }
                }
            }
        } finally {
            if (background != null) {
                background.close();
            }
        }
        if (!mismatches.isEmpty()) {
            fail(mismatches.size() + " command(s) of docs/CLI.md print something else than shown:\n" + String.join("\n", mismatches));
        }
    }

    /** {@code panmap list} shows every region of the machine: keep its header and this run's regions. */
    private static List<String> ours(List<String> lines, Map<String, String> renamed) {
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String first = lines.get(i).split("\\s+", 2)[0];
            if (i == 0 || renamed.values().stream().anyMatch(name -> first.equals("/" + name))) {
                kept.add(lines.get(i));
            }
        }
        return kept;
    }

    /** Applies the shell filters a transcript shows after a command: {@code grep TEXT}, {@code head -N}. */
    static List<String> filter(List<String> lines, List<String> filters) {
        List<String> out = lines;
        for (String f : filters) {
            List<String> words = arguments(f.replace('\'', '"'));
            if (words.get(0).equals("grep") && words.size() == 2) {
                out = out.stream().filter(l -> l.contains(words.get(1))).toList();
            } else if (words.get(0).equals("head") && words.size() == 2 && words.get(1).matches("-[0-9]+")) {
                out = out.subList(0, Math.min(out.size(), Integer.parseInt(words.get(1).substring(1))));
            } else {
                throw new AssertionError("a console transcript filters only with grep TEXT or head -N: " + f);
            }
        }
        return out;
    }

    /** The check above can fail: a changed message, or a line missing, is found. */
    @Test
    void aTranscriptThatNoLongerMatchesIsFound() {
        List<String> printed = List.of("created /a-12: 1M of data at offset 4096, OFFSET, mode 0600, 64 attach slots");
        assertEquals(null, compare(List.of("created /a-7: 1M of data at offset 4096, OFFSET, mode 0600, 64 attach slots"), printed));
        assertFalse(compare(List.of("created /a-7: 1M of data at offset 4096, DIRECT, mode 0600, 64 attach slots"), printed) == null);
        assertFalse(compare(List.of(printed.get(0), "another line"), printed) == null);
        assertEquals(List.of("create", "x", "--size", "12Q"), arguments("create x --size 12Q"));
        assertEquals(List.of("put", "orders", "price 101.25"), arguments("put orders \"price 101.25\""));
        assertEquals(List.of("writer lock  free"), filter(List.of("region  /a", "writer lock  free"), List.of("grep 'writer lock'")));
        assertEquals(List.of("region  /a"), filter(List.of("region  /a", "writer lock  free"), List.of("head -1")));
    }

    /**
     * One {@code $ ...} line of a transcript and the lines it shows printed: {@code panmap ARGS}, maybe
     * piped through filters, {@code panmap ARGS &} (started in the background: the lines shown are its
     * first ones), or {@code kill -9 PID} (kills what runs in the background).
     */
    record Step(int line, String text, Kind kind, String command, List<String> filters, List<String> output) {
        enum Kind { RUN, BACKGROUND, KILL }
    }

    static List<Step> steps(Fence transcript) {
        List<Step> steps = new ArrayList<>();
        String[] lines = transcript.text().split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].startsWith("$ ")) {
                continue;
            }
            String text = lines[i].substring(2).strip();
            List<String> output = new ArrayList<>();
            int j = i + 1;
            while (j < lines.length && !lines[j].startsWith("$ ")) {
                output.add(lines[j]);
                j++;
            }
            int at = transcript.line() + i;
            if (text.matches("kill -9 [0-9]+")) {
                steps.add(new Step(at, text, Step.Kind.KILL, null, List.of(), output));
            } else if (text.matches("panmap [^|&;<>#]*&")) {
                steps.add(new Step(at, text, Step.Kind.BACKGROUND, text.substring(7, text.length() - 1).strip(), List.of(), output));
            } else if (text.matches("panmap [^&;<>#]*")) {
                List<String> parts = List.of(text.split("\\s*\\|\\s*"));
                steps.add(new Step(at, text, Step.Kind.RUN, parts.get(0).substring(7), parts.subList(1, parts.size()), output));
            } else {
                throw new AssertionError(transcript.where() + ": a console transcript runs panmap commands, their filters, "
                    + "'&' and 'kill -9', not: " + text);
            }
            i = j - 1;
        }
        return steps;
    }

    /** {@return the region names of the document replaced by this run's unique ones} */
    private String rename(String text, Map<String, String> renamed) {
        Matcher m = NAME_WORD.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String unique = renamed.computeIfAbsent(m.group(1), stem -> names.next("docs-" + stem).substring(1));
            m.appendReplacement(b, Matcher.quoteReplacement(unique));
        }
        return m.appendTail(b).toString();
    }

    /** The transcripts were made as root; the owner shown (their only word "root") is whoever runs the test. */
    private static String owner(String line) {
        return line.replaceAll("\\broot\\b", Matcher.quoteReplacement(System.getProperty("user.name")));
    }

    /** {@return null if every printed line matches the shown one, else what differs} */
    static String compare(List<String> expected, List<String> actual) {
        for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
            if (i >= expected.size()) {
                return "printed more lines than shown, from: " + actual.get(i);
            }
            if (i >= actual.size()) {
                return "printed fewer lines than shown, missing: " + expected.get(i);
            }
            if (expected.get(i).contains(" resident here") && !Requirement.hasKernelPageAccounting()) {
                // what is resident cannot be seen here (QEMU user mode's own smaps says 0 of everything)
                System.out.println("DocsExamplesTest: not compared, /proc/self/smaps not the kernel's: " + expected.get(i).strip());
                continue;
            }
            if (!pattern(expected.get(i)).matcher(actual.get(i).strip()).matches()) {
                return "line " + (i + 1) + " differs:\n    shown   " + expected.get(i) + "\n    printed " + actual.get(i);
            }
        }
        return null;
    }

    /** A shown line as a pattern: its text literally, but any digits for digits and any blanks for blanks. */
    static Pattern pattern(String shown) {
        StringBuilder b = new StringBuilder();
        Matcher m = VARIABLE.matcher(shown.strip());
        int at = 0;
        while (m.find()) {
            b.append(Pattern.quote(shown.strip().substring(at, m.start())));
            String v = m.group();
            b.append(v.startsWith("0x") ? "0x[0-9a-f]+" : Character.isWhitespace(v.charAt(0)) ? "\\s+" : "[0-9]+");
            at = m.end();
        }
        b.append(Pattern.quote(shown.strip().substring(at)));
        return Pattern.compile(b.toString());
    }

    /** A command line split as a shell would (blanks, double quotes), for the simple lines the document shows. */
    static List<String> arguments(String command) {
        List<String> args = new ArrayList<>();
        StringBuilder current = null;
        boolean quoted = false;
        for (char c : command.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
                current = current == null ? new StringBuilder() : current;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (current != null) {
                    args.add(current.toString());
                    current = null;
                }
            } else {
                current = current == null ? new StringBuilder() : current;
                current.append(c);
            }
        }
        if (current != null) {
            args.add(current.toString());
        }
        return args;
    }
}
