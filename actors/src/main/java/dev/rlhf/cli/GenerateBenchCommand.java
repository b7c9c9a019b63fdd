package dev.rlhf.cli;

import com.google.gson.Gson;
import dev.rlhf.policy.bench.GenerationBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rlhf bench generate}: KV-cache generation throughput with random weights. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench generate --layers 4 --d-model 256 --heads 4 --batch 16"},
        description = "Generation throughput (random weights, multinomial sampling at temperature 1); prints JSON.")
final class GenerateBenchCommand implements Callable<Integer> {
    @Mixin private BenchShapeOptions shape;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed batches first (default 3).")
    private int warmup;

    @Option(names = "--batches", defaultValue = "10", description = "Timed batches (default 10).")
    private int batches;

    @Override
    public Integer call() {
        System.out.println(new Gson().toJson(GenerationBenchmark.run(shape.shape(), warmup, batches)));
        return 0;
    }
}
