package dev.rlhf.cli;

import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.model.NativeAllocator;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rlhf} command-line entry point; each sub-command is a class of its own. */
@Command(
        name = "rlhf",
        mixinStandardHelpOptions = true,
        versionProvider = BuildVersion.class,
        description = "RLHF training system for the JVM.",
        footer = {"", "Examples:",
            "  ./rlhf quickstart",
            "  ./rlhf generate --prompt 'The hotel was' --max-new-tokens 24 --temperature 0"},
        subcommands = {
            CommandLine.HelpCommand.class,
            BootstrapCommand.class,
            GenerateCommand.class,
            QuickstartCommand.class,
            TrainCommand.class,
            CompareCommand.class,
            ServeCommand.class,
            WorkerCommand.class,
            NodeCommand.class,
            LabelCommand.class,
            AnnotatorsCommand.class,
            PreferencesCommand.class,
            RewardModelCommand.class,
            DpoCommand.class,
            ExportCommand.class,
            BenchCommand.class,
        })
public final class RlhfCli implements Runnable {

    /** The root log level logback.xml reads. */
    private static final String LOG_LEVEL_PROPERTY = "rlhf.log.level";

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Show stack traces and debug logs (as RLHF_LOG=debug does).")
    private boolean verbose;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        if (List.of(args).contains("--verbose") || "debug".equalsIgnoreCase(System.getenv("RLHF_LOG"))) {
            System.setProperty(LOG_LEVEL_PROPERTY, "DEBUG"); // read by logback.xml, before the first log line
        }
        NativeAllocator.tune(NativeAllocator.Settings.from(ConfigFactory.load()));
        System.exit(commandLine().execute(args));
    }

    /** Whether this process was started with {@code --verbose} or {@code RLHF_LOG=debug}. */
    static boolean verbose() {
        return "DEBUG".equals(System.getProperty(LOG_LEVEL_PROPERTY));
    }

    /** The command line with its error reporting (see {@link CliErrors}). */
    static CommandLine commandLine() {
        CliErrors errors = new CliErrors();
        return new CommandLine(new RlhfCli())
                .setParameterExceptionHandler(errors)
                .setExecutionExceptionHandler(errors);
    }
}
