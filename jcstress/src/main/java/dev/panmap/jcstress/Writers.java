package dev.panmap.jcstress;

import dev.panmap.SharedRegion;
import java.util.function.BiFunction;

/**
 * A state's handle on its structure for the writer actor, attached in advance (when the state is
 * made, off the race) through the writer object of the moment, and again on the writer thread if
 * another writer thread has taken over since (see {@link TestRegion#writer()}).
 *
 * @param <T> the structure's handle type
 */
final class Writers<T> {
    private final TestRegion r;
    private final long root;
    private final BiFunction<SharedRegion, Long, T> attach;
    private final SharedRegion early;
    private final T earlyHandle;

    Writers(TestRegion r, long root, BiFunction<SharedRegion, Long, T> attach) {
        this.r = r;
        this.root = root;
        this.attach = attach;
        SharedRegion w = r.currentWriter();
        T h = null;
        if (w != null) {
            try {
                h = attach.apply(w, root);
            } catch (IllegalStateException closedMeanwhile) {
                w = null; // a new writer thread closed it: the writer attaches itself
            }
        }
        this.early = h == null ? null : w;
        this.earlyHandle = h;
    }

    /** {@return the handle for this writer thread} (call on the writer thread only) */
    T get() {
        SharedRegion w = r.writer();
        return w == early ? earlyHandle : attach.apply(w, root);
    }
}
