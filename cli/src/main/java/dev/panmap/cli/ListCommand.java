package dev.panmap.cli;

import dev.panmap.ErrorKind;
import dev.panmap.OpenMode;
import dev.panmap.RegionException;
import dev.panmap.SharedRegion;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "list", mixinStandardHelpOptions = true,
    description = {"Lists the panmap regions on this machine.", "",
        "The POSIX shared-memory objects in /dev/shm that carry a panmap header, with size, mode, owner, addressing,"
            + " live attached processes and writer-lock holder.",
        "Other objects there are counted, not listed, unless --all is given.", ""})
final class ListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--all", description = "also list the objects that are not panmap regions or cannot be read, and why")
    boolean all;

    @Option(names = "--json", description = "print one JSON array instead")
    boolean json;

    /** One object in the directory: a readable panmap region, or something else and why. */
    private record Entry(String name, RegionInfo info, String size, String mode, String owner, String note) {}

    @Override
    public Integer call() throws IOException {
        if (System.getProperty("os.name", "").startsWith("Windows")) {
            throw new RegionException(ErrorKind.NOT_SUPPORTED, "Windows has no documented call that lists named sections (they live in"
                + " the object manager's \\Sessions\\<n>\\BaseNamedObjects, readable only through the undocumented"
                + " NtQueryDirectoryObject): name the region, e.g. panmap inspect Local\\orders");
        }
        List<Path> files;
        try (Stream<Path> listing = Files.list(RegionInfo.SHM_DIRECTORY)) {
            files = listing.filter(Files::isRegularFile).sorted().toList();
        } catch (NoSuchFileException e) {
            throw new RegionException(ErrorKind.NOT_SUPPORTED, RegionInfo.SHM_DIRECTORY + " does not exist: no POSIX shared memory to list here");
        }
        List<Entry> entries = new ArrayList<>();
        for (Path file : files) {
            entries.add(examine(file));
        }
        List<Entry> shown = entries.stream().filter(e -> all || e.info != null).toList();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(shown.stream().map(ListCommand::json).toList()));
            return 0;
        }
        printTable(out, shown);
        long others = entries.size() - entries.stream().filter(e -> e.info != null).count();
        if (!all && others > 0) {
            out.println(others + (others == 1 ? " other object" : " other objects") + " in " + RegionInfo.SHM_DIRECTORY
                + (others == 1 ? " is not a panmap region" : " are not panmap regions") + " or cannot be read (--all lists them)");
        }
        return 0;
    }

    private static Entry examine(Path file) {
        String name = "/" + file.getFileName();
        try (SharedRegion region = SharedRegion.open(name, OpenMode.OPEN_READ_ONLY, RegionCommand.lookingOptions(Duration.ofMillis(100)))) {
            RegionInfo info = RegionInfo.of(region, 0);
            return new Entry(name, info, Strings.size(info.size()), info.mode(), info.owner(), null);
        } catch (RegionException e) {
            String note = switch (e.kind()) {
                case INCOMPATIBLE_REGION, CORRUPT_REGION -> "not a panmap region: " + e.getMessage();
                case PERMISSION_DENIED -> "no read access";
                case NOT_FOUND -> "removed while listing";
                default -> e.kind() + ": " + e.getMessage();
            };
            return new Entry(name, null, sizeOf(file), modeOf(file), RegionInfo.owner(file, uidOf(file)), note);
        }
    }

    private static String sizeOf(Path file) {
        try {
            return Strings.size(Files.size(file));
        } catch (IOException e) {
            return "?";
        }
    }

    private static int uidOf(Path file) {
        try {
            return (Integer) Files.getAttribute(file, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    private static String modeOf(Path file) {
        try {
            return String.format("0%03o", (Integer) Files.getAttribute(file, "unix:mode") & 0777);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "?";
        }
    }

    private static void printTable(PrintWriter out, List<Entry> entries) {
        boolean notes = entries.stream().anyMatch(e -> e.note != null);
        List<String[]> rows = new ArrayList<>();
        rows.add(notes ? new String[] {"NAME", "SIZE", "MODE", "OWNER", "ADDRESSING", "ATTACHED", "LOCK", "NOTE"}
            : new String[] {"NAME", "SIZE", "MODE", "OWNER", "ADDRESSING", "ATTACHED", "LOCK"});
        for (Entry e : entries) {
            RegionInfo i = e.info;
            String[] row = {e.name, e.size, e.mode, e.owner == null ? "?" : e.owner,
                i == null ? "-" : i.addressingSummary(), i == null ? "-" : Long.toString(i.liveAttached()),
                i == null ? "-" : i.lockSummary(), e.note == null ? "" : e.note};
            rows.add(notes ? row : Arrays.copyOf(row, row.length - 1));
        }
        if (entries.isEmpty()) {
            out.println("no panmap regions in " + RegionInfo.SHM_DIRECTORY);
            return;
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int c = 0; c < row.length; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < row.length; c++) {
                line.append(c == row.length - 1 ? row[c] : String.format("%-" + widths[c] + "s  ", row[c]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static Map<String, Object> json(Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (e.info != null) {
            m.putAll(e.info.toJson());
        } else {
            m.put("name", e.name);
            m.put("note", e.note);
        }
        m.put("panmap", e.info != null);
        return m;
    }
}
