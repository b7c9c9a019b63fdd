package dev.rlhf.cli;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
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
            "  ./rlhf bench ppo --layers 4 --d-model 256 --heads 4 --batch 16",
            "  ./rlhf bench ppo --replicas 2"},
        description = "PPO update throughput (reference forward, values and advantages, epochs x minibatches of "
                + "forward, backward and AdamW; random weights, rlhf.ppo settings); prints JSON. With --replicas N"
                + " above 1 each replica gets one intra-op thread, as in a run, the same updates also run on one"
                + " replica, alternating, and speedup and scaling_efficiency (speedup / N) are printed beside.")
final class PpoBenchCommand implements Callable<Integer> {
    @Mixin private BenchShapeOptions shape;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed updates first (default 1).")
    private int warmup;

    @Option(names = "--updates", defaultValue = "3", description = "Timed updates (default 3).")
    private int updates;

    @Option(names = "--replicas", defaultValue = "1", paramLabel = "N",
            description = "Data-parallel replicas of the learner (default 1; see rlhf.learner.replicas).")
    private int replicas;

    @Override
    public Integer call() {
        if (replicas > 1) {
            Engine.getInstance(); // loads libtorch, which the thread setting goes to
            JniUtils.setNumThreads(1);
        }
        PpoSettings settings = PpoSettings.from(CliContext.load().config());
        System.out.println(new Gson().toJson(PpoBenchmark.run(shape.shape(), settings, warmup, updates, replicas)));
        return 0;
    }
}
