package dev.panmap.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.panmap.internal.posix.PosixPlatform;
import dev.panmap.testing.LinuxOnly;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The backend is chosen in one factory, {@link Platforms}, and the {@link Platform} interface does
 * not name its implementations (before, {@code Platform} chose between {@code PosixPlatform} and
 * {@code WindowsPlatform} itself, which both implement it: a circle).
 */
class PlatformsTest {
    @Test
    void theInterfaceNamesNoBackend() throws IOException {
        List<Class<?>> types = new ArrayList<>(List.of(Platform.class));
        types.addAll(List.of(Platform.class.getDeclaredClasses()));
        assertThat(types).as("Platform and its nested types").hasSizeGreaterThan(3);
        for (Class<?> type : types) {
            byte[] classFile;
            try (InputStream in = type.getResourceAsStream("/" + type.getName().replace('.', '/') + ".class")) {
                classFile = in.readAllBytes();
            }
            assertThat(new String(classFile, StandardCharsets.ISO_8859_1)).as(type + "'s class file")
                .doesNotContain("dev/panmap/internal/posix/", "dev/panmap/internal/windows/");
        }
    }

    @Test
    @LinuxOnly
    void linuxGetsThePosixBackendOnceForAll() {
        assertThat(Platforms.unsupportedReason()).isNull();
        assertThat(Platforms.isSupported()).isTrue();
        assertThat(Platforms.current()).isInstanceOf(PosixPlatform.class).isSameAs(Platforms.current()).isSameAs(Platform.current());
    }
}
