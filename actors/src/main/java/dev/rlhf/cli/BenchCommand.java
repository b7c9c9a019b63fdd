package dev.rlhf.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code rlhf bench ...}: benchmarks that each print one JSON object and never assert a time. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench generate --layers 4 --d-model 256 --batch 16",
            "  ./rlhf bench store"},
        description = "Run a benchmark; prints one JSON object.",
        subcommands = {GenerateBenchCommand.class, StoreBenchCommand.class, CollectorBenchCommand.class,
            PpoBenchCommand.class, RewardModelBenchCommand.class, ServeBenchCommand.class, LabelBenchCommand.class,
            SyncBenchCommand.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
