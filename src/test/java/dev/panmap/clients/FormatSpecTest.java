package dev.panmap.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.internal.RecordLayout;
import dev.panmap.internal.RegionLayout;
import dev.panmap.structures.StructureLayout;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/FORMAT.md} against the Java layout classes, so the document cannot drift: every table row
 * whose last column names a constant in backticks has that constant's value in its first column; the
 * layout tables ({@code | Offset | Size | ...}) run from 0 with no gap and no overlap; every public
 * constant of {@link RegionLayout}, {@link RecordLayout}, {@link StructureLayout} and the rings'
 * {@link dev.panmap.ipc.RingLayout} is in the document.
 */
class FormatSpecTest {
    static final Path FORMAT = ClientProcess.REPO.resolve("docs/FORMAT.md");
    private static final Pattern CONSTANT = Pattern.compile("^`((?:RegionLayout|RecordLayout|StructureLayout|RingLayout)(?:\\.[A-Za-z_0-9]+)*(?:\\(\\d+\\))?)`$");
    private static final Pattern CELL_SPLIT = Pattern.compile("(?<!\\\\)\\|");

    /** One table row of the document. */
    record Row(int line, String table, List<String> cells) {
        String first() {
            return cells.getFirst();
        }

        String last() {
            return cells.getLast();
        }
    }

    static List<Row> rows() throws IOException {
        List<String> lines = Files.readAllLines(FORMAT);
        List<Row> rows = new ArrayList<>();
        String table = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (!line.startsWith("|")) {
                table = null;
                continue;
            }
            List<String> cells = new ArrayList<>();
            for (String c : CELL_SPLIT.split(line.substring(1, line.length() - 1), -1)) {
                cells.add(c.strip());
            }
            if (table == null) {
                table = String.join("|", cells); // the header row names the table's columns
                continue;
            }
            if (cells.getFirst().startsWith("---")) {
                continue;
            }
            rows.add(new Row(i + 1, table, cells));
        }
        return rows;
    }

    /** Decimal, 0x hex, or 2^N[-M]. */
    static long parse(String text) {
        String t = text.replace(" ", "");
        if (t.startsWith("0x")) {
            return Long.parseUnsignedLong(t.substring(2), 16);
        }
        Matcher power = Pattern.compile("2\\^(\\d+)(?:-(\\d+))?").matcher(t);
        if (power.matches()) {
            int n = Integer.parseInt(power.group(1));
            long v = n == 64 ? 0 : (n == 63 ? Long.MIN_VALUE : 1L << n);
            return power.group(2) == null ? v : v - Long.parseLong(power.group(2));
        }
        return Long.parseLong(t);
    }

    /**
     * {@return the value of a Java constant named as in the document}: {@code RegionLayout.X},
     * {@code StructureLayout.Heap.X}, or a static method of one int argument, {@code RecordLayout.slotStride(57)}.
     */
    static long javaValue(String name) {
        try {
            Matcher call = Pattern.compile("(.+)\\.(\\w+)\\((\\d+)\\)").matcher(name);
            if (call.matches()) {
                Method m = classOf(call.group(1)).getMethod(call.group(2), int.class);
                return ((Number) m.invoke(null, Integer.parseInt(call.group(3)))).longValue();
            }
            int dot = name.lastIndexOf('.');
            Field f = classOf(name.substring(0, dot)).getField(name.substring(dot + 1));
            return ((Number) f.get(null)).longValue();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no Java constant " + name, e);
        }
    }

    private static Class<?> classOf(String name) throws ClassNotFoundException {
        return switch (name) {
            case "RegionLayout" -> RegionLayout.class;
            case "RecordLayout" -> RecordLayout.class;
            case "StructureLayout" -> StructureLayout.class;
            case "RingLayout" -> dev.panmap.ipc.RingLayout.class;
            default -> {
                if (!name.startsWith("StructureLayout.")) {
                    throw new ClassNotFoundException(name);
                }
                yield Class.forName(StructureLayout.class.getName() + "$" + name.substring("StructureLayout.".length()));
            }
        };
    }

    @Test
    void everyNumberInTheDocumentIsTheJavaConstantItNames() throws IOException {
        int checked = 0;
        List<String> wrong = new ArrayList<>();
        for (Row row : rows()) {
            Matcher m = CONSTANT.matcher(row.last());
            if (!m.matches()) {
                continue;
            }
            long documented = parse(row.first());
            long actual = javaValue(m.group(1));
            if (documented != actual) {
                wrong.add("FORMAT.md:" + row.line() + " says " + m.group(1) + " = " + row.first() + ", Java has " + actual
                    + " (0x" + Long.toHexString(actual) + ")");
            }
            checked++;
        }
        assertThat(wrong).isEmpty();
        assertThat(checked).as("rows checked (a parser that finds nothing must not pass)").isGreaterThan(100);
    }

    @Test
    void everyLayoutTableRunsFromZeroWithoutGapsOrOverlaps() throws IOException {
        Map<Integer, List<Row>> tables = new LinkedHashMap<>();
        int start = -1;
        int previousLine = -2;
        for (Row row : rows()) {
            if (!row.table().startsWith("Offset|Size|")) {
                continue;
            }
            if (row.line() != previousLine + 1) {
                start = row.line();
            }
            previousLine = row.line();
            tables.computeIfAbsent(start, k -> new ArrayList<>()).add(row);
        }
        assertThat(tables).as("layout tables").hasSizeGreaterThanOrEqualTo(10);
        for (List<Row> table : tables.values()) {
            assertThat(parse(table.getFirst().first())).as("FORMAT.md:" + table.getFirst().line() + " starts at 0").isZero();
            for (int i = 1; i < table.size(); i++) {
                Row before = table.get(i - 1);
                String size = before.cells().get(1);
                if (!size.matches("\\d+")) {
                    continue; // a size that is a formula (capacity × 32, stride, 8 × level) ends the check there
                }
                assertThat(parse(table.get(i).first())).as("FORMAT.md:" + table.get(i).line() + " follows line " + before.line()
                    + " (" + before.first() + " + " + size + ")").isEqualTo(parse(before.first()) + Long.parseLong(size));
            }
        }
    }

    @Test
    void everyPublicConstantOfTheLayoutClassesIsDocumented() throws IOException {
        TreeSet<String> documented = new TreeSet<>();
        for (Row row : rows()) {
            Matcher m = CONSTANT.matcher(row.last());
            if (m.matches()) {
                documented.add(m.group(1));
            }
        }
        List<String> missing = new ArrayList<>();
        List<Class<?>> classes = new ArrayList<>(List.of(RegionLayout.class, RecordLayout.class, StructureLayout.class,
            dev.panmap.ipc.RingLayout.class));
        classes.addAll(List.of(StructureLayout.class.getClasses()));
        for (Class<?> c : classes) {
            String prefix = c.getName().substring(c.getPackageName().length() + 1).replace('$', '.');
            for (Field f : c.getFields()) {
                int mods = f.getModifiers();
                if (Modifier.isStatic(mods) && Modifier.isFinal(mods) && (f.getType() == int.class || f.getType() == long.class)
                    && !documented.contains(prefix + "." + f.getName())) {
                    missing.add(prefix + "." + f.getName());
                }
            }
        }
        assertThat(missing).as("constants of the layout classes that FORMAT.md does not give").isEmpty();
    }

    @Test
    void theTitleNamesTheLayoutVersion() throws IOException {
        assertThat(Files.readAllLines(FORMAT).getFirst()).isEqualTo("# The panmap region format (layout version " + RegionLayout.LAYOUT_VERSION + ")");
    }

    /** The C header's prefixes for the Java classes its layout numbers mirror, longest first. */
    private static final Map<String, String> C_PREFIXES = new LinkedHashMap<>();

    static {
        C_PREFIXES.put("RECORD_", "RecordLayout.");
        C_PREFIXES.put("STRUCTURE_", "StructureLayout.");
        C_PREFIXES.put("HEAP_", "StructureLayout.Heap.");
        C_PREFIXES.put("LIST_", "StructureLayout.List.");
        C_PREFIXES.put("HASH_", "StructureLayout.Hash.");
        C_PREFIXES.put("SKIP_", "StructureLayout.Skip.");
        C_PREFIXES.put("", "RegionLayout.");
    }

    /** The C header's numbers that are the client's own (not layout): error codes, flags, versions, timeouts. */
    private static boolean cOwn(String c, long value) {
        return value < 0 || c.startsWith("VERSION_") || c.equals("OK") || c.startsWith("READ_") || c.equals("OFFSET_MODE")
            || c.equals("ALLOW_OFFSET_FALLBACK") || c.equals("ATTACH_TIMEOUT_MS");
    }

    @Test
    void theCHeaderDefinesTheSameNumbers() throws IOException {
        // the C client's #defines, by the Java name they mirror: PMR_X for RegionLayout.X, PMR_RECORD_X for RecordLayout.X, ...
        Pattern define = Pattern.compile("#define (PMR_\\w+)\\s+\\(?(?:U?INT64_C\\()?(0x[0-9A-Fa-f]+|\\d+)\\)?(?:\\s*<<\\s*(\\d+)\\))?\\s*(?:/\\*.*)?$");
        int compared = 0;
        List<String> unmatched = new ArrayList<>();
        for (String line : Files.readAllLines(ClientProcess.C_SOURCES.resolve("panmap_region.h"))) {
            Matcher m = define.matcher(line.strip());
            if (!m.matches()) {
                if (line.strip().matches("#define PMR_[A-Z_0-9]+\\s+\\S.*") && !line.contains("(payload)")) {
                    unmatched.add(line.strip());
                }
                continue;
            }
            String c = m.group(1).substring("PMR_".length());
            long value = parse(m.group(2)) << (m.group(3) == null ? 0 : Integer.parseInt(m.group(3)));
            if (cOwn(c, value)) {
                continue;
            }
            if (c.equals("DEFAULT_DIRECT_BASE")) {
                assertThat(value).isEqualTo(dev.panmap.internal.posix.PosixPlatform.DEFAULT_DIRECT_BASE);
            } else {
                String prefix = C_PREFIXES.keySet().stream().filter(c::startsWith).findFirst().orElseThrow();
                String java = C_PREFIXES.get(prefix) + c.substring(prefix.length());
                assertThat(value).as(m.group(1) + " = " + java).isEqualTo(javaValue(java));
            }
            compared++;
        }
        // what the pattern does not read must be a define this test knows to skip (an expression, a string, a macro)
        assertThat(unmatched).allSatisfy(l -> assertThat(l).matches(
            "#define PMR_(VERSION_STRING|API|MAGIC_AND_VERSION|RECORD_MAGIC_AND_VERSION|WRITER_LOCK_BYTE|LAST_ERRCODE|[A-Z_]+ +\\(-\\d+\\)).*"));
        assertThat(compared).isGreaterThan(90);
    }

    // ---------------------------------------------------------------- §7: every refusal Java makes is listed

    /** A row of a §7 refusal table: its rule id, its kind, and the words Java's message has. */
    record Refusal(String rule, String kind, String javaWords) {}

    /** {@return the rows of §7's refusal tables ({@code | Rule | Refused when | Kind | Java's words |})} */
    static List<Refusal> refusals() throws IOException {
        List<Refusal> out = new ArrayList<>();
        for (Row row : rows()) {
            if (row.table().startsWith("Rule|Refused when|Kind|")) {
                Matcher kind = Pattern.compile("`([A-Z_]+)`").matcher(row.cells().get(2));
                out.add(new Refusal(row.first(), kind.find() ? kind.group(1) : row.cells().get(2), row.last().replace("`", "")));
            }
        }
        return out;
    }

    /** The Java code that opens and validates an attached region: its refusals are the ones §7 must list. */
    private static final List<String[]> ATTACH_CODE = List.of(
        new String[] {"src/main/java/dev/panmap/Opener.java", "private Validated validate()", ""},
        new String[] {"src/main/java/dev/panmap/internal/posix/PosixPlatform.java", "public Handle open(Target target", "private static String describe"},
        new String[] {"src/main/java/dev/panmap/internal/AttachTable.java", "private RegionException full(", "public void deregister"});

    @Test
    void everyRefusalJavaMakesWhenAttachingIsListedInSection7() throws IOException {
        List<Refusal> documented = refusals();
        assertThat(documented).as("§7's refusal rows").hasSizeGreaterThanOrEqualTo(24);
        Pattern thrown = Pattern.compile("new RegionException\\(ErrorKind\\.([A-Z_]+),(.*?)\\);", Pattern.DOTALL);
        Pattern bad = Pattern.compile("\\bbad = \"([^\"]+)\"");
        List<String> found = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String[] code : ATTACH_CODE) {
            String source = Files.readString(ClientProcess.REPO.resolve(code[0]));
            int from = source.indexOf(code[1]);
            assertThat(from).as(code[1] + " in " + code[0]).isNotNegative();
            String body = source.substring(from, code[2].isEmpty() ? source.length() : source.indexOf(code[2], from)); // "": to the end
            for (Pattern p : List.of(thrown, bad)) {
                Matcher m = p.matcher(body);
                while (m.find()) {
                    String kind = p == bad ? "CORRUPT_REGION" : m.group(1);
                    String words = words(p == bad ? m.group(1) : firstLiteral(m.group(2)));
                    found.add(kind + " \"" + words + "\"");
                    if (documented.stream().noneMatch(r -> r.kind().equals(kind) && r.javaWords().contains(words))) {
                        missing.add(code[0] + ": " + kind + " \"" + words + "\"");
                    }
                }
            }
        }
        assertThat(found).as("refusals found in Java's attach code (a scanner that finds none must not pass)").hasSizeGreaterThanOrEqualTo(14);
        assertThat(missing).as("refusals Java makes that §7 does not list with their kind").isEmpty();
    }

    /** {@return the first string literal of a message expression with distinctive words (6 characters or more)} */
    static String firstLiteral(String expression) {
        Matcher m = Pattern.compile("\"([^\"]*)\"").matcher(expression);
        while (m.find()) {
            if (words(m.group(1)).length() >= 6) {
                return m.group(1);
            }
        }
        throw new AssertionError("no message words in " + expression);
    }

    /** The distinctive words of a message literal: up to its first colon, parenthesis or hex number. */
    static String words(String literal) {
        String t = literal.strip().replaceAll("^[,.; ]+", "");
        for (String stop : List.of(":", " (", "0x")) {
            int at = t.indexOf(stop);
            if (at > 0) {
                t = t.substring(0, at);
            }
        }
        return t.strip();
    }

    @Test
    void everyErrnoJavaMapsHasTheKindOfSection71() throws Exception {
        Map<String, String> documented = new LinkedHashMap<>();
        for (Row row : rows()) {
            if (row.table().equals("errno|Kind")) {
                Matcher names = Pattern.compile("`(E[A-Z]+)`").matcher(row.first());
                while (names.find()) {
                    documented.put(names.group(1), row.last().replace("`", ""));
                }
            }
        }
        Class<?> errno = Class.forName("dev.panmap.internal.posix.Errno");
        Method kind = errno.getDeclaredMethod("kind", int.class);
        Method name = errno.getDeclaredMethod("name", int.class);
        kind.setAccessible(true);
        name.setAccessible(true);
        int compared = 0;
        for (int e = 1; e < 134; e++) {
            String symbol = (String) name.invoke(null, e);
            if (symbol.startsWith("errno ")) {
                continue; // not in Java's table: OTHER
            }
            String javaKind = kind.invoke(null, e).toString();
            assertThat(documented.getOrDefault(symbol, "OTHER")).as(symbol).isEqualTo(javaKind);
            compared++;
        }
        assertThat(compared).isGreaterThan(25);
        assertThat(documented).hasSizeGreaterThan(25);
    }
}
