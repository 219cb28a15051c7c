package dev.panmap.clients;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a test opened (regions, client processes, helpers), closed after it in the reverse order:
 * {@code @RegisterExtension final Closer cleanup = new Closer();} then {@code cleanup.add(...)}.
 */
final class Closer implements AfterEachCallback {
    private final List<AutoCloseable> open = new ArrayList<>();

    void add(AutoCloseable c) {
        open.add(c);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Exception first = null;
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}
