package dev.panmap.cli;

import dev.panmap.Permissions;
import dev.panmap.RegionOptions;
import java.util.function.Function;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option values the way the command line takes them; a bad one is a usage error (exit 2). */
final class Converters {
    private Converters() {}

    /** Turns the parser's {@link IllegalArgumentException} into picocli's, keeping its one-line message. */
    private static <T> T convert(String value, Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /** {@code 4096}, {@code 64K}, {@code 1M}, {@code 2G}. */
    static final class Size implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return Converters.convert(value, RegionOptions::parseSize);
        }
    }

    /** An offset: {@code 128}, {@code 0x80}, {@code 4K}. */
    static final class Offset implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return Converters.convert(value, v -> Strings.parseNumber(v, "an offset"));
        }
    }

    /** An address: {@code 0x700000000000}. */
    static final class Address implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return Converters.convert(value, v -> Strings.parseNumber(v, "an address"));
        }
    }

    /** Octal permission bits: {@code 0600}, {@code 660}. */
    static final class Mode implements ITypeConverter<Permissions> {
        @Override
        public Permissions convert(String value) {
            return Converters.convert(value, Permissions::parse);
        }
    }
}
