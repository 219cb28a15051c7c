package dev.panmap.examples;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SeqRecord;
import dev.panmap.SharedRegion;
import dev.panmap.WriterLock;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Example: a configuration region in a file that outlives every process. Any process reads the
 * current configuration without a lock; a writer replaces it atomically (one {@link SeqRecord}
 * write) under the writer lock and {@code force()}s it, so it survives restarts and power loss.
 * The payload is the configuration in {@code key=value} lines, NUL-terminated.
 *
 * Usage: {@code PersistentConfig FILE set KEY VALUE} or {@code PersistentConfig FILE get KEY}
 */
public final class PersistentConfig {
    static final int PAYLOAD = 4000;

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        try (SharedRegion region = SharedRegion.openFile(file, OpenMode.OPEN_OR_CREATE, RegionOptions.defaults().size(8192))) {
            SeqRecord config;
            try (WriterLock.Held held = region.writerLock().hold()) {
                config = region.created() ? SeqRecord.format(region, 0, PAYLOAD) : SeqRecord.attach(region, 0);
            }
            if (args[1].equals("get")) {
                System.out.println(args[2] + "=" + read(config).getProperty(args[2], "<unset>"));
                return;
            }
            try (WriterLock.Held held = region.writerLock().hold()) { // read-modify-write: under the lock
                Properties properties = read(config);
                properties.setProperty(args[2], args[3]);
                StringBuilder text = new StringBuilder();
                properties.stringPropertyNames().stream().sorted()
                    .forEach(k -> text.append(k).append('=').append(properties.getProperty(k)).append('\n'));
                byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
                if (bytes.length >= PAYLOAD) {
                    throw new IllegalArgumentException("configuration too large: " + bytes.length + " bytes");
                }
                config.write(p -> {
                    p.fill((byte) 0);
                    MemorySegment.copy(bytes, 0, p, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes.length);
                });
            }
            region.force();
            System.out.println("set " + args[2] + "=" + args[3] + " (version " + config.version() + ")");
        }
    }

    private static Properties read(SeqRecord config) throws Exception {
        MemorySegment copy = Arena.ofAuto().allocate(PAYLOAD);
        config.read(copy);
        Properties properties = new Properties();
        properties.load(new java.io.StringReader(copy.getString(0)));
        return properties;
    }
}
