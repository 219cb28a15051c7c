package dev.panmap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class ProcessesTest {
    /** A time on the minute keeps its seconds (docs/CLI.md's inspect transcript failed once a minute: "04:58" for "04:58:00"). */
    @Test
    void aLocalTimeAlwaysShowsItsSeconds() {
        Instant onTheMinute = LocalDateTime.of(2026, 12, 7, 4, 58, 0, 123_000_000).atZone(ZoneId.systemDefault()).toInstant();
        assertThat(Processes.localTime(onTheMinute)).isEqualTo("2026-12-07T04:58:00");
        assertThat(Processes.localTime(onTheMinute.plusSeconds(2))).isEqualTo("2026-12-07T04:58:02");
    }
}
