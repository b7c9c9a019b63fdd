package dev.rlhf.cli;

import com.google.gson.Gson;
import dev.rlhf.policy.bench.PpoBenchmark;
import dev.rlhf.policy.ppo.PpoSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rlhf bench ppo}: PPO learner throughput (scoring + epochs of minibatch updates) with random weights. */
@Command(name = "ppo", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench ppo --layers 4 --d-model 256 --heads 4 --batch 16"},
        description = "PPO update throughput (reference forward, values and advantages, epochs x minibatches of "
                + "forward, backward and AdamW; random weights, rlhf.ppo settings); prints JSON.")
final class PpoBenchCommand implements Callable<Integer> {
    @Mixin private BenchShapeOptions shape;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed updates first (default 1).")
    private int warmup;

    @Option(names = "--updates", defaultValue = "3", description = "Timed updates (default 3).")
    private int updates;

    @Override
    public Integer call() {
        PpoSettings settings = PpoSettings.from(CliContext.load().config());
        System.out.println(new Gson().toJson(PpoBenchmark.run(shape.shape(), settings, warmup, updates)));
        return 0;
    }
}
