package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON writer of the command line, checked by reading its output back with a strict parser. */
class JsonTest {
    @Test
    void everyKindOfValueReadsBackAsWritten() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("name", "/orders");
        value.put("size", 1L << 40);
        value.put("negative", -7);
        value.put("ratio", 1.25);
        value.put("alive", true);
        value.put("holder", null);
        value.put("list", Arrays.asList(1L, "two", null, false, List.of(), Map.of()));
        value.put("nested", Map.of("pid", 42L));

        String json = Json.write(value);

        assertThat(json).doesNotContain("\n");
        Map<String, Object> back = JsonParser.parseObject(json);
        assertThat(back.keySet()).as("keys in the order written").containsExactlyElementsOf(value.keySet());
        Map<String, Object> expected = new LinkedHashMap<>(value);
        expected.put("negative", -7L); // the parser reads every integer as a long
        assertThat(back).isEqualTo(expected);
    }

    @Test
    void stringsAreEscaped() {
        String nasty = "quote \" backslash \\ newline \n tab \t nul \0 bell \u0007 del \u007f line sep \u2028 é 漢 😀";
        String json = Json.write(Map.of("s", nasty));

        assertThat(json.chars().filter(c -> c < 0x20).count()).as("no raw control characters").isZero();
        assertThat(json).contains("\\\"").contains("\\\\").contains("\\n").contains("\\t").contains("\\u0000").contains("\\u2028");
        assertThat(JsonParser.parseObject(json)).containsEntry("s", nasty);
    }

    @Test
    void nonFiniteNumbersAreNull() {
        assertThat(JsonParser.parse(Json.write(Arrays.asList(Double.NaN, Double.POSITIVE_INFINITY, 2.5))))
            .isEqualTo(Arrays.asList(null, null, 2.5));
    }

    @Test
    void theTestParserIsStrict() {
        for (String bad : List.of("{", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "\"unterminated", "{\"a\":1} x", "01", "{'a':1}",
            "\"raw\ncontrol\"", "{\"a\":1,\"a\":2}", "tru", "-", "1.", "[1,]")) {
            assertThatThrownBy(() -> JsonParser.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void otherTypesAreRefused() {
        assertThatThrownBy(() -> Json.write(new Object())).isInstanceOf(IllegalArgumentException.class);
    }
}
