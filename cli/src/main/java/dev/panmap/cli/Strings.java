package dev.panmap.cli;

import dev.panmap.RegionOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * NUL-terminated UTF-8 strings in shared memory, as C programs keep them, and the small text
 * conversions of the command line (sizes, offsets, printable forms).
 */
final class Strings {
    private Strings() {}

    /** The longest string {@code watch} reads: a bound on the work per poll in a large region. */
    static final int MAX_READ = 64 * 1024;

    /**
     * {@return the bytes at {@code offset} up to the first NUL, the end of the segment or {@link #MAX_READ}}
     */
    static byte[] readBytes(MemorySegment segment, long offset) {
        long end = Math.min(segment.byteSize(), offset + MAX_READ);
        long nul = offset;
        while (nul < end && segment.get(ValueLayout.JAVA_BYTE, nul) != 0) {
            nul++;
        }
        return segment.asSlice(offset, nul - offset).toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * {@return the string at {@code offset}, read until two reads in a row agree} A writer that does
     * not take the lock (a C program) may be half-way through; this keeps a torn string from being
     * printed in all but the rarest races.
     */
    static byte[] readSettled(MemorySegment segment, long offset) {
        byte[] previous = readBytes(segment, offset);
        for (int i = 0; i < 16; i++) {
            byte[] again = readBytes(segment, offset);
            if (Arrays.equals(previous, again)) {
                return again;
            }
            previous = again;
            Thread.onSpinWait();
        }
        return previous;
    }

    /**
     * Writes {@code text} in UTF-8 and a NUL at {@code offset}.
     *
     * @return the number of bytes written, NUL included
     * @throws IllegalArgumentException if it does not fit, with the numbers
     */
    static int write(MemorySegment segment, long offset, String text, String where) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        long size = segment.byteSize();
        if (offset < 0 || offset >= size || bytes.length + 1L > size - offset) {
            throw new IllegalArgumentException("TEXT does not fit: " + bytes.length + " bytes + NUL at offset " + offset
                + " need " + (offset + bytes.length + 1L) + " bytes, " + where + " has " + size);
        }
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, offset, bytes.length);
        segment.set(ValueLayout.JAVA_BYTE, offset + bytes.length, (byte) 0);
        return bytes.length + 1;
    }

    /**
     * {@return the bytes decoded as UTF-8, with control characters escaped} so that one string is
     * always one line ({@code \n}, {@code \t}, {@code \x01}, ...; a backslash becomes {@code \\})
     */
    static String printable(byte[] utf8) {
        String s = new String(utf8, StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    String escaped = escaped(c);
                    out.append(escaped != null ? escaped : String.valueOf(c));
                }
            }
        }
        return out.toString();
    }

    /**
     * {@return how a character that could steer a terminal is shown, or null for one that cannot}:
     * C0 controls and DEL as {@code \x1b}, C1 controls (0x9b is a CSI on its own) and the Unicode
     * controls of text direction (which reorder what a line seems to say) as {@code \u202e}
     */
    static String escaped(char c) {
        if (c < 0x20 || c == 0x7f) {
            return String.format("\\x%02x", (int) c);
        }
        if ((c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e)
            || (c >= 0x2066 && c <= 0x2069)) {
            return String.format("\\u%04x", (int) c);
        }
        return null;
    }

    /**
     * A writer for the terminal: every character that could steer it ({@link #escaped}) is written
     * escaped, but line ends and tabs, so that a region's name, a file name or a peer's words reach
     * the screen as text, whatever command prints them (issue 20: a name with terminal escapes
     * rewrote an operator's screen through {@code panmap list}).
     */
    static final class TerminalSafe extends java.io.FilterWriter {
        TerminalSafe(java.io.Writer out) {
            super(out);
        }

        @Override
        public void write(int c) throws java.io.IOException {
            String e = c == '\n' || c == '\t' ? null : escaped((char) c);
            if (e == null) {
                out.write(c);
            } else {
                out.write(e);
            }
        }

        @Override
        public void write(char[] buffer, int offset, int length) throws java.io.IOException {
            for (int i = offset; i < offset + length; i++) {
                write(buffer[i]);
            }
        }

        @Override
        public void write(String text, int offset, int length) throws java.io.IOException {
            for (int i = offset; i < offset + length; i++) {
                write(text.charAt(i));
            }
        }
    }

    /** {@return a size the way {@code --size} takes it: {@code 64K}, {@code 1M}, {@code 2G}, or bytes} */
    static String size(long bytes) {
        String[] units = {"T", "G", "M", "K"};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << (10 * (units.length - i));
            if (bytes >= unit && bytes % unit == 0) {
                return bytes / unit + units[i];
            }
        }
        return Long.toString(bytes);
    }

    /** {@return a hexadecimal address, {@code 0x600000000000}} */
    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    /**
     * Parses an offset or an address: decimal, {@code 0x} hexadecimal, or a size with a suffix
     * ({@code 4K}); underscores are allowed ({@code 0x6000_0000_0000}).
     */
    static long parseNumber(String text, String what) {
        String t = text.trim().replace("_", "").toLowerCase(Locale.ROOT);
        long value;
        try {
            if (t.startsWith("0x")) {
                value = Long.parseLong(t.substring(2), 16);
            } else if (!t.isEmpty() && Character.isLetter(t.charAt(t.length() - 1))) {
                value = RegionOptions.parseSize(t);
            } else {
                value = Long.parseLong(t);
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not " + what + ": \"" + text + "\" (use e.g. 4096, 0x1000 or 4K)", e);
        }
        if (value < 0) {
            throw new IllegalArgumentException(what + " must not be negative: \"" + text + "\"");
        }
        return value;
    }
}
