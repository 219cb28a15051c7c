package dev.panmap.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** A command on the NUL-terminated string at an offset of a region, or of a plain file ({@code --raw}). */
abstract class StringCommand extends RegionCommand {
    @Option(names = "--raw", paramLabel = "PATH", description = "a plain file with no panmap header")
    Path raw;

    @Option(names = "--offset", paramLabel = "N", converter = Converters.Offset.class,
        description = "where the string starts: in the data area of a region, in the file itself with --raw (default: 0)")
    long offset;
}
