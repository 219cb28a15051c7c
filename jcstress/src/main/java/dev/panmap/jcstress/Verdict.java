package dev.panmap.jcstress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.InProcessCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.grading.GradingResult;
import org.openjdk.jcstress.infra.runners.TestList;

/**
 * Reads a jcstress run's result file and decides. jcstress itself fails (an AssertionError out of
 * main, exit status 1) on a FORBIDDEN outcome or a test error, but passes over an API mismatch in
 * silence and never mentions a test that did not run at all. A run passes here only if every test in the jar ran in at least one configuration, no run ended in an
 * error of any kind (including API mismatch and a missing result), and no FORBIDDEN outcome was
 * seen. Prints one line per test and then one summary line; exits 1 if the run did not pass.
 *
 * <p>{@code java -cp jcstress.jar dev.panmap.jcstress.Verdict RUN_DIR LABEL [SECONDS [TEST_REGEX]]}: the
 * regex is jcstress's {@code -t}, if the run had one (only the tests it selects must have run).
 */
public final class Verdict {
    private Verdict() {}

    private static final class Tally {
        int runs;
        long samples;
        long forbidden;
        int errors;
        final Map<String, Long> forbiddenOutcomes = new TreeMap<>();
        final List<String> errorLines = new ArrayList<>();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Verdict RUN_DIR LABEL [SECONDS [TEST_REGEX]]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        String label = args[1];
        String took = args.length > 2 && !args[2].isEmpty() ? ", " + args[2] + " s" : "";
        Pattern filter = Pattern.compile(args.length > 3 && !args[3].isEmpty() ? args[3] : ".*");
        TestRegion.removeLeftovers(); // regions of forks killed on a timeout, if any

        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().matches("jcstress-results-.*\\.bin\\.gz")).sorted().toList();
        } catch (IOException e) {
            files = List.of();
        }
        if (files.isEmpty()) {
            System.out.println("jcstress " + label + ": FAILED: no result file in " + dir + " (the run did not get to the end)" + took);
            System.exit(1);
        }
        InProcessCollector collector = new InProcessCollector();
        DiskReadCollector reader = new DiskReadCollector(files.getLast().toString(), collector);
        reader.dump();
        reader.close();

        SortedSet<String> expected = new TreeSet<>();
        for (String t : TestList.tests()) {
            if (filter.matcher(t).find()) { // as jcstress's -t selects
                expected.add(t);
            }
        }
        Map<String, Tally> byTest = new TreeMap<>();
        for (String t : expected) {
            byTest.put(t, new Tally());
        }
        for (TestResult r : collector.getTestResults()) {
            Tally t = byTest.computeIfAbsent(r.getName(), n -> new Tally());
            t.runs++;
            t.samples += r.getTotalCount();
            if (r.status() != Status.NORMAL) {
                t.errors++;
                String first = r.getMessages().isEmpty() ? "" : ": " + r.getMessages().getFirst();
                t.errorLines.add(r.status() + " " + r.getConfig().jvmArgs + first);
                continue;
            }
            for (GradingResult g : r.grading().gradingResults.values()) {
                if (g.expect == Expect.FORBIDDEN && g.count > 0) {
                    t.forbidden += g.count;
                    t.forbiddenOutcomes.merge(g.id + " (" + g.description + ")", g.count, Long::sum);
                }
                if (g.expect == Expect.UNKNOWN && g.count > 0) { // an outcome no @Outcome grades
                    t.forbidden += g.count;
                    t.forbiddenOutcomes.merge(g.id + " (not graded by any @Outcome)", g.count, Long::sum);
                }
            }
        }

        int passed = 0;
        int failed = 0;
        int errored = 0;
        long samples = 0;
        long forbidden = 0;
        int runs = 0;
        for (Map.Entry<String, Tally> e : byTest.entrySet()) {
            Tally t = e.getValue();
            String name = e.getKey().replace("dev.panmap.jcstress.", "");
            String verdict;
            if (t.runs == 0) {
                verdict = "ERROR: did not run";
                errored++;
            } else if (t.errors > 0) {
                verdict = "ERROR in " + t.errors + " of " + t.runs + " runs";
                errored++;
            } else if (t.forbidden > 0) {
                verdict = "FAILED: " + t.forbidden + " FORBIDDEN";
                failed++;
            } else {
                verdict = "ok";
                passed++;
            }
            System.out.printf("  %-42s %3d runs %,16d samples  %,12d forbidden  %s%n", name, t.runs, t.samples, t.forbidden, verdict);
            t.forbiddenOutcomes.forEach((o, n) -> System.out.printf("      FORBIDDEN %s: %,d%n", o, n));
            t.errorLines.stream().limit(3).forEach(l -> System.out.println("      " + l));
            samples += t.samples;
            forbidden += t.forbidden;
            runs += t.runs;
        }
        boolean ok = failed == 0 && errored == 0;
        System.out.printf("jcstress %s: %s: %d tests, %d passed, %d failed (FORBIDDEN seen), %d errors; %d runs, %,d samples, %,d forbidden%s%n",
            label, ok ? "PASSED" : "FAILED", byTest.size(), passed, failed, errored, runs, samples, forbidden, took);
        System.out.printf("jcstress: %d passed, %d failed%n", passed, failed + errored); // the plain closing line CI reads
        System.exit(ok ? 0 : 1);
    }
}
