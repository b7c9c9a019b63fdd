package dev.rlhf.cli;

import dev.rlhf.store.StoreBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf bench store}: durable judgments per second of the preference store, as one JSON object. */
@Command(
        name = "store",
        mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench store"},
        description = "Durable judgments/s with 1 and 16 writers and read-back rate of the RocksDB preference store.")
public final class StoreBenchCommand implements Runnable {

    @Option(names = "--single-writer-judgments", defaultValue = "2000",
            description = "Judgments written by the lone writer (default: ${DEFAULT-VALUE}).")
    private int singleWriterJudgments;

    @Option(names = "--multi-writer-judgments", defaultValue = "32000",
            description = "Judgments written in all by the 16 writers (default: ${DEFAULT-VALUE}).")
    private int multiWriterJudgments;

    @Override
    public void run() {
        System.out.println(StoreBenchmark.runJson(singleWriterJudgments, multiWriterJudgments));
    }
}
