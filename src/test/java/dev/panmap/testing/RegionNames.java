package dev.panmap.testing;

import dev.panmap.SharedRegion;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Unique region names for a test, each removed after the test (unless the test removed it):
 * {@code @RegisterExtension final RegionNames regions = new RegionNames();} then
 * {@code regions.next("stem")}. Runs after the class's own {@code @AfterEach} methods. (The library's
 * tests and the command line's share it.)
 */
public final class RegionNames implements AfterEachCallback {
    private final List<String> made = new ArrayList<>();

    /** {@return a unique name ({@link Names#unique}), removed after the test} */
    public String next(String stem) {
        String name = Names.unique(stem);
        made.add(name);
        return name;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (String name : made) {
            try {
                SharedRegion.remove(name);
            } catch (RuntimeException alreadyGone) {
                // removed by the test itself, or never created
            }
        }
        made.clear();
    }
}
