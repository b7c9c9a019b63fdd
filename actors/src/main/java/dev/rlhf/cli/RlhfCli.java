package dev.rlhf.cli;

import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.model.NativeAllocator;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rlhf} command-line entry point; each sub-command is a class of its own. */
@Command(
        name = "rlhf",
        mixinStandardHelpOptions = true,
        version = "rlhf 0.1.0",
        description = "RLHF training system for the JVM.",
        subcommands = {
            CommandLine.HelpCommand.class,
            BootstrapCommand.class,
            GenerateCommand.class,
            QuickstartCommand.class,
            TrainCommand.class,
            ServeCommand.class,
            WorkerCommand.class,
            BenchCommand.class,
        })
public final class RlhfCli implements Runnable {

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        NativeAllocator.tune(NativeAllocator.Settings.from(ConfigFactory.load()));
        System.exit(new CommandLine(new RlhfCli()).execute(args));
    }
}
