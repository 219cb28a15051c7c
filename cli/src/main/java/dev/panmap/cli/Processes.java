package dev.panmap.cli;

import dev.panmap.ProcessInfo;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/** How the command line shows a process recorded in a region (a lock holder, an attached process). */
final class Processes {
    private Processes() {}

    /**
     * {@return e.g. {@code pid 4242, alive (java, started 2025-11-22T01:30:02)} or {@code pid 4242, dead}}
     * The command and start come from the system for a live process; a dead one has only its record.
     */
    static String describe(ProcessInfo p) {
        if (!p.alive()) {
            return "pid " + p.pid() + ", dead";
        }
        StringBuilder details = new StringBuilder();
        ProcessHandle.of(p.pid()).map(ProcessHandle::info).ifPresent(info -> {
            info.command().ifPresent(c -> details.append(Path.of(c).getFileName()));
            info.startInstant().ifPresent(t -> details.append(details.isEmpty() ? "" : ", ").append("started ").append(localTime(t)));
        });
        return "pid " + p.pid() + ", alive" + (details.isEmpty() ? "" : " (" + details + ")");
    }

    private static final DateTimeFormatter TO_THE_SECOND = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");

    /**
     * {@return an instant as local date and time to the second, {@code 2025-11-22T01:30:02}} Always with
     * the seconds: {@code LocalDateTime.toString()} leaves them out when they are 0 ({@code 01:30}).
     */
    static String localTime(Instant t) {
        return LocalDateTime.ofInstant(t, ZoneId.systemDefault()).format(TO_THE_SECOND);
    }

    /** {@return the JSON form: {@code {"pid":4242,"startTime":123456,"alive":true}}, or null} */
    static Map<String, Object> json(ProcessInfo p) {
        if (p == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", p.pid());
        m.put("startTime", p.startTime());
        m.put("alive", p.alive());
        return m;
    }
}
