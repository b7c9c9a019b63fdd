package dev.rlhf.actors;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import dev.rlhf.policy.align.GroupPolicyLearner;
import dev.rlhf.policy.align.GroupSettings;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.ppo.PolicyLearner;
import dev.rlhf.policy.ppo.PpoSettings;

/** The learner of each {@link Algorithm}, with its settings read from the configuration. */
public final class OnlineLearners {
    private OnlineLearners() {}

    /**
     * A learner at the start of a run, copying the SFT weights into its trainable policy and its frozen reference.
     */
    public static OnlineLearner create(Algorithm algorithm, GptWeights sft, NDManager parent, Config config) {
        return switch (algorithm) {
            case PPO -> new PpoOnlineLearner(new PolicyLearner(sft, parent, PpoSettings.from(config)));
            case GRPO -> new GroupOnlineLearner(new GroupPolicyLearner(sft, parent, GroupSettings.grpo(config)));
            case RLOO -> new GroupOnlineLearner(new GroupPolicyLearner(sft, parent, GroupSettings.rloo(config)));
        };
    }

    /** Completions per prompt the algorithm learns from: 1 for PPO, the group size for GRPO and RLOO. */
    public static int groupSize(Algorithm algorithm, Config config) {
        return switch (algorithm) {
            case PPO -> 1;
            case GRPO -> GroupSettings.grpo(config).groupSize();
            case RLOO -> GroupSettings.rloo(config).groupSize();
        };
    }
}
