package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** NUL-terminated strings in memory and the command line's number forms. */
class StringsTest {
    @Test
    void writesTextAndNulAndReadsItBack() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(32);
            m.fill((byte) 'x');
            assertThat(Strings.write(m, 4, "héllo", "test")).isEqualTo(7); // 6 bytes of UTF-8 and a NUL
            assertThat(new String(Strings.readBytes(m, 4), StandardCharsets.UTF_8)).isEqualTo("héllo");
            assertThat(m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 10)).isZero();
            assertThat(Strings.readSettled(m, 0)).isEqualTo("xxxxhéllo".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aStringWithoutNulEndsAtTheSegment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(8);
            m.fill((byte) 'a');
            assertThat(Strings.readBytes(m, 5)).containsExactly('a', 'a', 'a');
        }
    }

    @Test
    void textThatDoesNotFitIsRefusedWithTheNumbers() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(16);
            assertThat(Strings.write(m, 10, "12345", "r")).isEqualTo(6); // exactly fills the end
            assertThatThrownBy(() -> Strings.write(m, 10, "123456", "region r"))
                .hasMessage("TEXT does not fit: 6 bytes + NUL at offset 10 need 17 bytes, region r has 16");
            assertThatThrownBy(() -> Strings.write(m, 16, "", "r")).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void printableKeepsOneStringOnOneLine() {
        assertThat(Strings.printable("a\nb\tc\\d\u0001e\u007f ü".getBytes(StandardCharsets.UTF_8)))
            .isEqualTo("a\\nb\\tc\\\\d\\x01e\\x7f ü");
    }

    @Test
    void numbersAndSizes() {
        assertThat(Strings.parseNumber("4096", "n")).isEqualTo(4096);
        assertThat(Strings.parseNumber("0x6000_0000_0000", "n")).isEqualTo(0x6000_0000_0000L);
        assertThat(Strings.parseNumber("4K", "n")).isEqualTo(4096);
        assertThat(Strings.parseNumber("0", "n")).isZero();
        assertThatThrownBy(() -> Strings.parseNumber("-1", "an offset")).hasMessageContaining("must not be negative");
        assertThatThrownBy(() -> Strings.parseNumber("12Q", "an offset")).hasMessageStartingWith("not an offset: \"12Q\"");
        assertThat(Strings.size(4096)).isEqualTo("4K");
        assertThat(Strings.size(3 << 20)).isEqualTo("3M");
        assertThat(Strings.size(2L << 30)).isEqualTo("2G");
        assertThat(Strings.size(1000)).isEqualTo("1000");
    }
}
