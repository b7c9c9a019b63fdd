package dev.rlhf.serve;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.PpoOnlineLearner;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.ppo.PolicyLearner;
import dev.rlhf.policy.ppo.PpoSettings;
import java.io.IOException;
import java.nio.file.Path;

/** Experiment-run checkpoints of random policies, written by {@link RunCheckpoint} as a run writes them. */
final class TinyRunCheckpoints {
    private TinyRunCheckpoints() {}

    /** Saves the checkpoint of {@code iteration} in {@code run}, with weights of {@code config} seeded {@code seed}. */
    static Path save(NDManager manager, GptConfig config, Path run, int iteration, long seed) throws IOException {
        try (NDManager own = manager.newSubManager();
                GptWeights sft = GptWeights.random(config, false, own, seed);
                PpoOnlineLearner learner = new PpoOnlineLearner(
                        new PolicyLearner(sft, own, PpoSettings.from(ConfigFactory.load()), 1))) {
            return new RunCheckpoint(run).save(learner, new RunCheckpoint.State(iteration, -1, 0, -1, -1));
        }
    }
}
