package dev.rlhf.cli;

import dev.rlhf.actors.CollectorBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf bench collector}: judgments per second through the preference-collector actor, as one JSON object. */
@Command(
        name = "collector",
        mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench collector --batches 50 --comparisons-per-batch 16"},
        description = "Judgments/s through the PreferenceCollector actor (fresh RocksDB store, the configured "
                + "simulated annotator panel, batches sent one after another); prints JSON.")
public final class CollectorBenchCommand implements Runnable {

    @Option(names = "--batches", defaultValue = "50",
            description = "Timed Collect batches (default: ${DEFAULT-VALUE}).")
    private int batches;

    @Option(names = "--comparisons-per-batch", defaultValue = "16",
            description = "Comparisons in each batch, as the quickstart's pairs per iteration "
                    + "(default: ${DEFAULT-VALUE}).")
    private int comparisonsPerBatch;

    @Option(names = "--warmup-batches", defaultValue = "5",
            description = "Batches sent first and not timed (default: ${DEFAULT-VALUE}).")
    private int warmupBatches;

    @Override
    public void run() {
        System.out.println(CollectorBenchmark.runJson(CliContext.load().config(), batches, comparisonsPerBatch,
                warmupBatches));
    }
}
