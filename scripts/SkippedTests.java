import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The tests a run skipped and why, read from the surefire and failsafe XML reports under the given
 * build folders, one line per reason with the tests it covers. Run by scripts/requirements.sh report
 * with the JDK's source launcher: java scripts/SkippedTests.java target cli/target demo/target
 *
 * <p>With {@code --against FOLDER...} after them (scripts/test-arm64.sh: the aarch64 run's folders,
 * then the host's), it also says which tests one run has and the other has not, so that two runs'
 * counts can be compared test by test. With {@code --strict} first, it also lists the tests that failed
 * and exits 1 if any did (scripts/test-arm64.sh: Maven there runs on past test failures, so that one
 * emulated run reports every module).
 */
public final class SkippedTests {
    public static void main(String[] args) throws Exception {
        List<String> these = List.of(args);
        boolean strict = !these.isEmpty() && these.get(0).equals("--strict");
        if (strict) {
            these = these.subList(1, these.size());
        }
        List<String> others = List.of();
        int against = these.indexOf("--against");
        if (against >= 0) {
            others = these.subList(against + 1, these.size());
            these = these.subList(0, against);
        }
        Map<String, List<String>> byReason = new TreeMap<>();
        java.util.Set<String> names = new java.util.TreeSet<>();
        List<String> failed = new ArrayList<>();
        int tests = report(these, byReason, names, failed);
        int skipped = byReason.values().stream().mapToInt(List::size).sum();
        System.out.println("skipped tests: " + skipped + " of " + tests + (skipped == 0 ? "" : ", by reason:"));
        byReason.forEach((reason, cases) -> System.out.println("  " + cases.size() + " x " + reason + "\n      " + String.join(", ", cases)));
        if (against >= 0) {
            java.util.Set<String> otherNames = new java.util.TreeSet<>();
            int otherTests = report(others, new TreeMap<>(), otherNames, new ArrayList<>());
            if (otherTests == 0) {
                System.out.println("no reports to compare with in " + others);
            } else {
            List<String> onlyHere = names.stream().filter(n -> !otherNames.contains(n)).toList();
            List<String> onlyThere = otherNames.stream().filter(n -> !names.contains(n)).toList();
            System.out.println("against " + others + ": " + otherTests + " tests there, " + tests + " here; only here: " + first(onlyHere)
                + "; only there: " + first(onlyThere));
            }
        }
        if (strict) {
            System.out.println("failed tests: " + failed.size() + (failed.isEmpty() ? "" : " " + failed));
            if (!failed.isEmpty()) {
                System.exit(1);
            }
        }
    }

    /** {@return how many, and the first 20 of them} */
    private static String first(List<String> names) {
        return names.size() + (names.isEmpty() ? "" : " " + names.subList(0, Math.min(20, names.size())) + (names.size() > 20 ? " ..." : ""));
    }

    /** Reads the reports under the folders: {@return how many tests} and their skips by reason, their names into names. */
    private static int report(List<String> folders, Map<String, List<String>> byReason, java.util.Set<String> names, List<String> failed)
            throws Exception {
        int tests = 0;
        for (String arg : folders) {
            for (String reports : List.of("surefire-reports", "failsafe-reports")) {
                Path dir = Path.of(arg, reports);
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path file : files.filter(f -> f.getFileName().toString().matches("TEST-.*\\.xml")).sorted().toList()) {
                        tests += read(file, byReason, names, failed);
                    }
                }
            }
        }
        return tests;
    }

    private static int read(Path file, Map<String, List<String>> byReason, java.util.Set<String> names, List<String> failed) throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Element suite;
        try {
            suite = factory.newDocumentBuilder().parse(file.toFile()).getDocumentElement();
        } catch (IOException | org.xml.sax.SAXException e) {
            System.out.println("  (cannot read " + file + ": " + e.getMessage() + ")");
            return 0;
        }
        NodeList cases = suite.getElementsByTagName("testcase");
        for (int i = 0; i < cases.getLength(); i++) {
            Element test = (Element) cases.item(i);
            names.add(test.getAttribute("classname") + "." + test.getAttribute("name"));
            if (test.getElementsByTagName("failure").getLength() + test.getElementsByTagName("error").getLength() > 0) {
                String className = test.getAttribute("classname");
                failed.add(className.substring(className.lastIndexOf('.') + 1) + "." + test.getAttribute("name"));
            }
            NodeList skipped = test.getElementsByTagName("skipped");
            if (skipped.getLength() > 0) {
                String reason = reason((Element) skipped.item(0));
                String className = test.getAttribute("classname");
                String name = className.substring(className.lastIndexOf('.') + 1) + "." + test.getAttribute("name");
                byReason.computeIfAbsent(reason.isEmpty() ? "(no reason given)" : reason, r -> new ArrayList<>()).add(name);
            }
        }
        return cases.getLength();
    }

    /**
     * A disabled test's reason is the message attribute; an aborted one's (a failed assumption) is
     * the first line of the stack trace in the element: "...TestAbortedException: Assumption failed: why".
     */
    private static String reason(Element skipped) {
        String message = skipped.getAttribute("message").strip();
        if (message.isEmpty()) {
            // the exception's message, which may span lines, up to the stack trace
            message = String.join(" ", skipped.getTextContent().strip().lines().takeWhile(l -> !l.strip().startsWith("at ")).toList());
            message = message.replaceFirst("^[\\w.$]+(Exception|Error):\\s*", "").replaceFirst("^Assumption failed: ", "");
        }
        return message.replaceAll("\\s+", " ");
    }
}
