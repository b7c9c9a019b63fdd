package dev.rlhf.cli;

import com.google.gson.Gson;
import dev.rlhf.rewardmodel.bench.RewardModelBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rlhf bench rm}: Bradley–Terry reward-model training throughput with random weights. */
@Command(name = "rm", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench rm --layers 4 --d-model 256 --heads 4 --batch 16"},
        description = "Reward-model training throughput (random weights; --batch pairs of prompt-len + new-tokens"
                + " tokens per step: one forward over both sides, backward, AdamW); prints JSON.")
final class RewardModelBenchCommand implements Callable<Integer> {
    @Mixin private BenchShapeOptions shape;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed steps first (default 3).")
    private int warmup;

    @Option(names = "--steps", defaultValue = "20", description = "Timed steps (default 20).")
    private int steps;

    @Override
    public Integer call() {
        System.out.println(new Gson().toJson(RewardModelBenchmark.run(shape.shape(), warmup, steps)));
        return 0;
    }
}
