package dev.panmap.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The fenced code blocks of a Markdown file, for tests that check what the documentation shows. */
public final class MarkdownFences {
    private MarkdownFences() {}

    /**
     * One fenced block: its info string ({@code java}, {@code console}, empty), its text without the
     * fences, and the file and 1-based line of its first line of text.
     */
    public record Fence(Path file, int line, String info, String text) {
        /** {@return where it is, as {@code README.md:42}} */
        public String where() {
            return file + ":" + line;
        }
    }

    /** {@return the fenced blocks of {@code file}, in order} */
    public static List<Fence> of(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<Fence> fences = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String open = lines.get(i).strip();
            if (!open.startsWith("```")) {
                continue;
            }
            String info = open.substring(3).strip();
            StringBuilder text = new StringBuilder();
            int j = i + 1;
            while (j < lines.size() && !lines.get(j).strip().equals("```")) {
                text.append(lines.get(j)).append('\n');
                j++;
            }
            if (j == lines.size()) {
                throw new IllegalStateException(file + ":" + (i + 1) + ": a code fence that is never closed");
            }
            fences.add(new Fence(file, i + 2, info, text.toString()));
            i = j;
        }
        return fences;
    }

    /**
     * {@return the repository's root: the nearest directory at or above the working directory that
     * holds {@code parent/pom.xml}} (tests run in the library's directory or in {@code cli/}).
     */
    public static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("parent/pom.xml")) && Files.isRegularFile(d.resolve("README.md"))) {
                return d;
            }
        }
        throw new IllegalStateException("no repository root (parent/pom.xml and README.md) at or above " + dir);
    }
}
