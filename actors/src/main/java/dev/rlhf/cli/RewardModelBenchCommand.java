package dev.rlhf.cli;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.Gson;
import dev.rlhf.rewardmodel.bench.RewardModelBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rlhf bench rm}: Bradley–Terry reward-model training throughput with random weights. */
@Command(name = "rm", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench rm --layers 4 --d-model 256 --heads 4 --batch 16",
            "  ./rlhf bench rm --replicas 2"},
        description = "Reward-model training throughput (random weights; --batch pairs of prompt-len + new-tokens"
                + " tokens per step: one forward over both sides, backward, AdamW); prints JSON. With --replicas N"
                + " above 1 each replica gets one intra-op thread, as in a run, the same steps also run on one"
                + " replica, alternating, and speedup and scaling_efficiency (speedup / N) are printed beside.")
final class RewardModelBenchCommand implements Callable<Integer> {
    @Mixin private BenchShapeOptions shape;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed steps first (default 3).")
    private int warmup;

    @Option(names = "--steps", defaultValue = "20", description = "Timed steps (default 20).")
    private int steps;

    @Option(names = "--replicas", defaultValue = "1", paramLabel = "N",
            description = "Data-parallel replicas of the trainer (default 1; see rlhf.learner.replicas).")
    private int replicas;

    @Override
    public Integer call() {
        if (replicas > 1) {
            Engine.getInstance(); // loads libtorch, which the thread setting goes to
            JniUtils.setNumThreads(1);
        }
        System.out.println(new Gson().toJson(RewardModelBenchmark.run(shape.shape(), warmup, steps, replicas)));
        return 0;
    }
}
