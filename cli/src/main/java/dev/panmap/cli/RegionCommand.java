package dev.panmap.cli;

import dev.panmap.OpenMode;
import dev.panmap.RegionOptions;
import dev.panmap.SharedRegion;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * A command on one region, named ({@code NAME}, a POSIX shared-memory object) or kept in a file
 * ({@code --file PATH}); {@code watch} and {@code put} also take a plain file ({@code --raw PATH}).
 */
abstract class RegionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME",
        description = "the region's name: a POSIX shared-memory object such as orders or /orders")
    String name;

    @Option(names = "--file", paramLabel = "PATH", description = "a region kept in this file instead of a named object")
    Path file;

    @Option(names = "--trust-owner", paramLabel = "UID", split = ",",
        description = "open only a region owned by this user or by this process's user (repeatable, or UID,UID;"
            + " default: any owner for an open, see docs/SECURITY.md)")
    int[] trustOwners;

    /** How a command opens a region only to look at it: read-only (not registered), never waiting long. */
    static RegionOptions lookingOptions(Duration attachTimeout) {
        return RegionOptions.defaults().allowOffsetFallback(true).attachTimeout(attachTimeout);
    }

    /**
     * What the command works on: exactly one of NAME, --file, --raw ({@code raw} may be null), and the
     * owners trusted to have made it (--trust-owner; empty: any).
     */
    record Target(String name, Path file, boolean raw, int[] trusted) {
        SharedRegion open(OpenMode mode, RegionOptions given) {
            RegionOptions options = trusted.length == 0 ? given : given.trustedOwners(trusted);
            if (raw) {
                return SharedRegion.openRawFile(file, mode, options);
            }
            return file != null ? SharedRegion.openFile(file, mode, options) : SharedRegion.open(name, mode, options);
        }

        /** {@return the canonical name or the file, for messages} */
        String label() {
            return file != null ? file.toString() : name;
        }
    }

    Target target() {
        return target(null);
    }

    Target target(Path raw) {
        int given = (name != null ? 1 : 0) + (file != null ? 1 : 0) + (raw != null ? 1 : 0);
        String choices = raw == null && !hasRawOption() ? "a region NAME or --file PATH" : "a region NAME, --file PATH or --raw PATH";
        if (given != 1) {
            throw usage(given == 0 ? "give " + choices : "give only one of " + choices);
        }
        if (raw != null) {
            return new Target(null, raw, true, trusted());
        }
        if (file != null) {
            return new Target(null, file, false, trusted());
        }
        try {
            return new Target(SharedRegion.canonicalName(name), null, false, trusted());
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private int[] trusted() {
        if (trustOwners == null) {
            return new int[0];
        }
        for (int uid : trustOwners) {
            if (uid < 0) {
                throw usage("--trust-owner takes a uid (0 or more), not " + uid);
            }
        }
        return trustOwners.clone();
    }

    private boolean hasRawOption() {
        return spec.findOption("--raw") != null;
    }

    /** {@return {@code seconds} of a {@code --wait} option as a duration; a negative one is a usage error} */
    Duration waitOption(double seconds) {
        if (seconds < 0) {
            throw usage("--wait must not be negative: " + seconds);
        }
        return Duration.ofMillis((long) (seconds * 1000));
    }

    /** {@return the error of a command that waited {@code seconds} for the writer lock of {@code target} in vain} */
    static dev.panmap.RegionException lockNotHad(SharedRegion region, Target target, double seconds) {
        dev.panmap.ProcessInfo holder = region.writerLock().holder().orElse(null);
        java.util.List<dev.panmap.LockHolding> readers = region.lockHoldings().stream().filter(l -> l.writerLock() && !l.exclusive()).toList();
        String why = !readers.isEmpty() ? " by no writer: it is " + readers.getFirst().describe() + " (a process with read access;"
                + " see docs/SECURITY.md)"
            : holder == null ? " (no holder recorded)" : " by pid " + holder.pid();
        return new dev.panmap.RegionException(dev.panmap.ErrorKind.WOULD_BLOCK, "the writer lock of " + target.label() + " is held"
            + why + "; gave up after " + seconds + " s (--wait)");
    }

    ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
