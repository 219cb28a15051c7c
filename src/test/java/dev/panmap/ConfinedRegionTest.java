package dev.panmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.panmap.testing.Names;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** {@link RegionOptions#confinedToThread}: one thread uses and closes the region; others are refused, and change nothing. */
class ConfinedRegionTest {
    @Test
    void onlyTheOpeningThreadUsesOrClosesIt() throws Exception {
        String name = Names.unique("confined");
        try (SharedRegion creator = SharedRegion.create(name, RegionOptions.defaults().size(4096))) {
            creator.segment().set(ValueLayout.JAVA_LONG, 0, 11);
            SharedRegion r = SharedRegion.open(name, OpenMode.OPEN_ONLY, RegionOptions.defaults().confinedToThread(true));
            assertThat(r.segment().get(ValueLayout.JAVA_LONG, 0)).isEqualTo(11);
            assertThat(creator.attachedProcesses()).hasSize(2);

            assertThatThrownBy(() -> CompletableFuture.runAsync(() -> r.segment().get(ValueLayout.JAVA_LONG, 0)).get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(WrongThreadException.class);
            assertThatThrownBy(() -> CompletableFuture.runAsync(r::close).get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(WrongThreadException.class)
                .hasMessageContaining("confined to thread " + Thread.currentThread().getName());
            assertThat(r.isClosed()).as("a refused close changes nothing").isFalse();
            assertThat(r.segment().get(ValueLayout.JAVA_LONG, 0)).isEqualTo(11);

            r.close();
            assertThat(r.isClosed()).isTrue();
            assertThatThrownBy(r::segment).isInstanceOf(IllegalStateException.class);
            assertThat(creator.attachedProcesses()).as("deregistered at close").hasSize(1);
        } finally {
            SharedRegion.remove(name);
        }
    }
}
