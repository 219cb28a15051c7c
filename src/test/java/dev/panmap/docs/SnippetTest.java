package dev.panmap.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panmap.testing.MarkdownFences;
import dev.panmap.testing.MarkdownFences.Fence;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code ```java} block of the README and of {@code docs/*.md} compiles against the library as
 * built ({@code target/classes}, from the test class path), with javac: a snippet of statements is compiled as
 * the body of a method that may throw anything, a snippet that declares a class as a file of its
 * own; both get the imports a reader would write (the panmap packages, {@code java.lang.foreign}
 * with {@code ValueLayout}'s constants, {@code java.nio.file}, {@code java.time}, {@code java.util}).
 * One test per snippet, named by file and line; a failure shows the compiler's message and the snippet.
 */
class SnippetTest {
    static final String IMPORTS = """
        import dev.panmap.*;
        import dev.panmap.ipc.*;
        import dev.panmap.structures.*;
        import java.lang.foreign.*;
        import static java.lang.foreign.ValueLayout.*;
        import java.nio.file.*;
        import java.time.*;
        import java.util.*;
        """;
    private static final Pattern TYPE_DECLARATION =
        Pattern.compile("(?m)^(public\\s+|final\\s+|abstract\\s+)*(class|record|interface|enum)\\s+(\\w+)");

    /** The Markdown files whose Java snippets must compile. */
    static List<Path> documents() throws IOException {
        Path root = MarkdownFences.repositoryRoot();
        List<Path> files = new ArrayList<>(List.of(root.resolve("README.md"), root.resolve("jmh/README.md")));
        try (DirectoryStream<Path> docs = Files.newDirectoryStream(root.resolve("docs"), "*.md")) {
            docs.forEach(files::add);
        }
        files.sort(null);
        return files;
    }

    @TestFactory
    Stream<DynamicTest> everyJavaSnippetCompiles(@TempDir Path out) throws IOException {
        List<Fence> snippets = new ArrayList<>();
        for (Path file : documents()) {
            MarkdownFences.of(file).stream().filter(f -> f.info().equals("java")).forEach(snippets::add);
        }
        assertTrue(snippets.size() >= 10, "the README alone shows more than 10 Java snippets; found " + snippets.size());
        Map<Fence, List<String>> errors = compile(snippets, out);
        Path root = MarkdownFences.repositoryRoot();
        return snippets.stream().map(s -> DynamicTest.dynamicTest(root.relativize(s.file()) + ":" + s.line(), () -> {
            List<String> messages = errors.get(s);
            if (!messages.isEmpty()) {
                fail("the snippet at " + s.where() + " does not compile:\n" + String.join("\n", messages)
                    + "\n--- the snippet ---\n" + numbered(s));
            }
        }));
    }

    /** The check above can fail: a snippet that calls the API wrongly is reported with its message and text. */
    @Test
    void aSnippetThatNoLongerCompilesIsReported(@TempDir Path out) {
        Fence good = new Fence(Path.of("README.md"), 10, "java", "try (SharedRegion r = SharedRegion.open(\"/x\")) {\n"
            + "    SeqRecord.attach(r, 0).read(MemorySegment.NULL);\n}\n");
        Fence stale = new Fence(Path.of("README.md"), 20, "java", "try (SharedRegion r = SharedRegion.open(\"/x\")) {\n"
            + "    SeqRecord.attach(r).read(MemorySegment.NULL);\n}\n");      // attach(region) does not exist
        Map<Fence, List<String>> errors = compile(List.of(good, stale), out);
        assertEquals(List.of(), errors.get(good));
        assertFalse(errors.get(stale).isEmpty(), "a call with the wrong arguments compiled");
        String message = String.join("\n", errors.get(stale));
        assertTrue(message.startsWith("README.md:21: "), "the error points at the snippet's line in the document: " + message);
        assertTrue(message.contains("attach"), message);
    }

    /**
     * Compiles the snippets together with javac (the JDK's {@code ToolProvider}, in this JVM);
     * {@return each snippet's error messages, as FILE:LINE: message}
     */
    static Map<Fence, List<String>> compile(List<Fence> snippets, Path out) {
        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow(() -> new AssertionError("no javac (a JRE rather than a JDK?)"));
        Map<Fence, List<String>> errors = new LinkedHashMap<>();
        Map<Path, Fence> owner = new HashMap<>();
        Map<Path, Integer> headerLines = new HashMap<>();
        List<String> args = new ArrayList<>(List.of("-d", out.resolve("classes").toString(), "-proc:none", "-implicit:none",
            "-Xlint:none", "-Xmaxerrs", "10000", "-encoding", "UTF-8",
            "-classpath", System.getProperty("java.class.path")));
        try {
            for (int i = 0; i < snippets.size(); i++) {
                Fence s = snippets.get(i);
                errors.put(s, new ArrayList<>());
                String pkg = "package snippets.s" + i + ";\n" + IMPORTS;
                var declared = TYPE_DECLARATION.matcher(s.text());
                String name = declared.find() ? declared.group(3) : null;
                String source = name != null ? pkg + s.text() : pkg + "class Snippet {\nvoid run() throws Throwable {\n" + s.text() + "}\n}\n";
                Path file = out.resolve("src/snippets/s" + i + "/" + (name != null ? name : "Snippet") + ".java").toAbsolutePath();
                Files.createDirectories(file.getParent());
                Files.writeString(file, source);
                owner.put(file, s);
                headerLines.put(file, (int) pkg.lines().count() + (name != null ? 0 : 2));
                args.add(file.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        StringWriter output = new StringWriter();
        int status;
        try (PrintWriter w = new PrintWriter(output)) {
            status = javac.run(w, w, args.toArray(String[]::new));
        }
        // FILE:LINE: error: MESSAGE, the file as given
        Matcher m = Pattern.compile("(?m)^(\\S+\\.java):(\\d+): error: (.*)$").matcher(output.toString());
        int reported = 0;
        while (m.find()) {
            Path file = Path.of(m.group(1)).toAbsolutePath();
            Fence s = owner.get(file);
            if (s == null) {
                throw new AssertionError("a compiler error outside the snippets: " + m.group() + "\n" + output);
            }
            long line = s.line() + Long.parseLong(m.group(2)) - 1 - headerLines.get(file);
            errors.get(s).add(s.file() + ":" + line + ": " + m.group(3));
            reported++;
        }
        if (status != 0 && reported == 0) {
            throw new AssertionError("javac failed (exit " + status + ") without an error in a snippet:\n" + output);
        }
        return errors;
    }

    private static String numbered(Fence s) {
        StringBuilder b = new StringBuilder();
        int n = s.line();
        for (String line : s.text().split("\n", -1)) {
            b.append(String.format("%4d | %s%n", n++, line));
        }
        return b.toString();
    }
}
