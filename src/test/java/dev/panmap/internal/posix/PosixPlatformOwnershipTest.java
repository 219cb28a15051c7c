package dev.panmap.internal.posix;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import dev.panmap.internal.Platform.Access;
import dev.panmap.internal.Platform.Creation;
import dev.panmap.internal.Platform.Target;
import dev.panmap.testing.LinuxOnly;
import dev.panmap.testing.Names;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Each live mapping in the address book belongs to the handle it maps: an operation of one object's
 * handle never maps over another's range, even one that starts at the very address its own mapping
 * had before a close (the platform-level half of the close-vs-grow race; {@code CoreRaceTest} has
 * the region-level half).
 */
@LinuxOnly // POSIX backend
class PosixPlatformOwnershipTest {
    private static final long PAGE = 4096;

    @Test
    void mapMoreAndCoverTruncatedRefuseARangeOfAnotherHandle() {
        PosixPlatform platform = (PosixPlatform) Platforms.current();
        Target t1 = Target.shm(Names.unique("own-1"));
        Target t2 = Target.shm(Names.unique("own-2"));
        Platform.Handle h1 = platform.create(t1, 8 * PAGE, new Creation(0600, false, null));
        Platform.Handle h2 = platform.create(t2, 8 * PAGE, new Creation(0600, false, null));
        try {
            long base = 0x6e00_0000_0000L; // a fixed base, as DIRECT regions have: nothing else in the tests uses it
            long x = platform.map(h1, 2 * PAGE, 8 * PAGE, Access.READ_WRITE, base, false);
            platform.unmap(x, 2 * PAGE); // h1's range becomes a reservation of the book...
            long y = platform.map(h2, 4 * PAGE, 8 * PAGE, Access.READ_WRITE, base, false); // ...which h2's mapping takes
            assertThat(y).as("the second mapping reuses the first one's range").isEqualTo(x).isEqualTo(base);
            MemorySegment s2 = MemorySegment.ofAddress(y).reinterpret(4 * PAGE);
            s2.set(JAVA_LONG, 3 * PAGE, 22);

            assertThatThrownBy(() -> platform.mapMore(h1, x, 2 * PAGE, 6 * PAGE, Access.READ_WRITE))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no longer mapped");
            assertThatThrownBy(() -> platform.coverTruncated(h1, x + PAGE, PAGE)).isInstanceOf(IllegalStateException.class);
            assertThat(s2.get(JAVA_LONG, 3 * PAGE)).as("h2's page is still h2's object").isEqualTo(22);
            assertThat(platform.auditMappings()).isEmpty();

            platform.mapMore(h2, y, 4 * PAGE, 6 * PAGE, Access.READ_WRITE); // its own: fine
            assertThat(platform.auditMappings()).isEmpty();
            platform.unmap(y, 6 * PAGE);
        } finally {
            platform.close(h1);
            platform.close(h2);
            platform.remove(t1);
            platform.remove(t2);
        }
    }
}
