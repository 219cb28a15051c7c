package dev.panmap.cli;

import dev.panmap.RegionException;
import dev.panmap.internal.Platform;
import dev.panmap.internal.Platforms;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code panmap} command line: entry point of the executable {@code panmap-cli-*-all.jar} and the {@code panmap}
 * launcher. Exit codes: 0 success, 1 a native or region error, 2 bad usage. An error is one line on
 * stderr, {@code KIND: message} (e.g. {@code NOT_FOUND: shm_open("/x", O_RDONLY|O_CLOEXEC, 0) failed:
 * ENOENT (No such file or directory)}); {@code --verbose} adds the stack trace.
 */
@Command(name = "panmap", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    subcommands = {CreateCommand.class, InspectCommand.class, ListCommand.class, WatchCommand.class, ShareCommand.class,
        PutCommand.class, LockCommand.class, GrowCommand.class, RingCommand.class, RemoveCommand.class},
    description = {"Creates, inspects, watches and removes panmap shared-memory regions.", ""},
    footer = {"", "Exit codes: 0 success, 1 a native or region error, 2 bad usage.",
        "'panmap COMMAND --help' describes each command."})
public final class Main implements Callable<Integer> {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "print the stack trace of an error")
    boolean verbose;

    /** The top command; picocli makes one per run. */
    public Main() {}

    /**
     * Runs the command line and exits with its code.
     *
     * @param args the command line, as {@code panmap --help} describes it
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line; {@return its exit code} */
    static int run(String... args) {
        Main main = new Main();
        CommandLine cli = new CommandLine(main);
        PrintWriter out = utf8(FileDescriptor.out);
        PrintWriter err = utf8(FileDescriptor.err);
        cli.setOut(out).setErr(err);
        cli.setParameterExceptionHandler(Main::usageError);
        cli.setExecutionExceptionHandler((e, command, parsed) -> failure(e, command, parsed, verbose(parsed)));
        try {
            return cli.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** No command: the usage, and exit 2. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "give a command");
    }

    /** A UTF-8 writer on {@code fd} through which nothing that steers a terminal passes unescaped ({@link Strings.TerminalSafe}). */
    private static PrintWriter utf8(FileDescriptor fd) {
        return new PrintWriter(new Strings.TerminalSafe(new java.io.BufferedWriter(
            new OutputStreamWriter(new FileOutputStream(fd), StandardCharsets.UTF_8))), true);
    }

    /** Whether {@code --verbose} was given, before or after the command name. */
    private static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** A usage error: one line naming the command and where its help is, exit 2. */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        if (verbose(e.getCommandLine().getParseResult())) {
            e.printStackTrace(err);
        }
        String name = command.getCommandSpec().qualifiedName();
        if (command.getCommandSpec().parent() == null && e.getMessage().equals("give a command")) {
            command.usage(err);
        }
        err.println(name + ": " + e.getMessage() + " (see '" + name + " --help')");
        return USAGE;
    }

    /** A failure while running a command: one line, {@code KIND: message}; exit 1 (2 for a bad argument). */
    private static int failure(Exception e, CommandLine command, ParseResult parsed, boolean verbose) {
        PrintWriter err = command.getErr();
        if (verbose) {
            e.printStackTrace(err);
        }
        if (e instanceof RegionException r) {
            err.println(r.kind() + ": " + r.getMessage());
            return FAILED;
        }
        if (e instanceof IllegalArgumentException) {
            String name = command.getCommandSpec().qualifiedName();
            err.println(name + ": " + e.getMessage() + " (see '" + name + " --help')");
            return USAGE;
        }
        if (e instanceof IllegalStateException || e instanceof UnsupportedOperationException) {
            err.println("panmap: " + e.getMessage()); // no native access, an unsupported platform
            return FAILED;
        }
        err.println("panmap: unexpected " + e + (verbose ? "" : " (--verbose prints the stack trace)"));
        return FAILED;
    }

    /** {@code --version}: the version, the Java runtime and the platform. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            String platform;
            try {
                platform = Platforms.current().name();
            } catch (UnsupportedOperationException | IllegalStateException e) {
                platform = "unavailable: " + e.getMessage();
            }
            return new String[] {"panmap " + (version == null ? "(development build)" : version) + " on Java " + Runtime.version(),
                "platform: " + platform};
        }
    }
}
