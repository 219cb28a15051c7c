package dev.panmap.cli;

import dev.panmap.SharedRegion;
import dev.panmap.testing.Names;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Unique region names for a test, each removed after it whatever happened
 * ({@code @RegisterExtension final RegionNames names = new RegionNames();}).
 */
final class RegionNames implements AfterEachCallback {
    private final List<String> names = new ArrayList<>();

    /** {@return a new unique name, to be removed after the test} */
    String next(String stem) {
        String name = Names.unique(stem);
        names.add(name);
        return name;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (String name : names) {
            try {
                SharedRegion.remove(name);
            } catch (RuntimeException alreadyGone) {
                // removed by the test itself, or never created
            }
        }
        names.clear();
    }
}
