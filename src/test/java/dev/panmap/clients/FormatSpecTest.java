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
 * constant of {@link RegionLayout}, {@link RecordLayout} and {@link StructureLayout} is in the document.
 */
class FormatSpecTest {
    static final Path FORMAT = ClientProcess.REPO.resolve("docs/FORMAT.md");
    private static final Pattern CONSTANT = Pattern.compile("^`((?:RegionLayout|RecordLayout|StructureLayout)(?:\\.[A-Za-z_0-9]+)*(?:\\(\\d+\\))?)`$");
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
        List<Class<?>> classes = new ArrayList<>(List.of(RegionLayout.class, RecordLayout.class, StructureLayout.class));
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

    @Test
    void theCHeaderDefinesTheSameNumbers() throws IOException {
        // the C client's #defines, by the Java name they mirror: PMR_X for RegionLayout.X, PMR_RECORD_X for RecordLayout.X
        Pattern define = Pattern.compile("#define (PMR_\\w+)\\s+(?:UINT64_C\\()?(0x[0-9A-Fa-f]+|\\d+)\\)?\\s*(?:/\\*.*)?$");
        int compared = 0;
        for (String line : Files.readAllLines(ClientProcess.C_SOURCES.resolve("panmap_region.h"))) {
            Matcher m = define.matcher(line.strip());
            if (!m.matches() || m.group(1).startsWith("PMR_VERSION_") || m.group(1).equals("PMR_OK")) {
                continue;
            }
            String c = m.group(1).substring("PMR_".length());
            String java = c.startsWith("RECORD_") ? "RecordLayout." + c.substring("RECORD_".length()) : "RegionLayout." + c;
            if (c.equals("DEFAULT_DIRECT_BASE")) {
                assertThat(parse(m.group(2))).isEqualTo(dev.panmap.internal.posix.PosixPlatform.DEFAULT_DIRECT_BASE);
            } else if (parse(m.group(2)) < 0 || c.startsWith("READ_") || c.contains("MODE") && !c.startsWith("ADDRESSING")
                       || c.equals("ALLOW_OFFSET_FALLBACK")) {
                continue; // error codes and open flags are the client's own
            } else {
                assertThat(parse(m.group(2))).as(m.group(1) + " = " + java).isEqualTo(javaValue(java));
            }
            compared++;
        }
        assertThat(compared).isGreaterThan(40);
    }
}
