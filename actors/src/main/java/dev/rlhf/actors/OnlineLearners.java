package dev.rlhf.actors;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import dev.rlhf.policy.align.DpoSettings;
import dev.rlhf.policy.align.GroupPolicyLearner;
import dev.rlhf.policy.align.GroupSettings;
import dev.rlhf.policy.align.PreferenceLearner;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.ppo.PolicyLearner;
import dev.rlhf.policy.ppo.PpoSettings;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.policy.train.LearnerReplicas;

/** The learner of each {@link Algorithm}, with its settings read from the configuration. */
public final class OnlineLearners {
    private OnlineLearners() {}

    /**
     * A learner at the start of a run, copying the SFT weights into its trainable policy and its frozen reference.
     *
     * @param tokenizer the policy's tokenizer, which DPO and IPO encode the judged comparisons with; the caller
     *     keeps it
     */
    public static OnlineLearner create(Algorithm algorithm, GptWeights sft, TextTokenizer tokenizer, NDManager parent,
            Config config) {
        return switch (algorithm) {
            case PPO -> new PpoOnlineLearner(
                    new PolicyLearner(sft, parent, PpoSettings.from(config), LearnerReplicas.from(config)));
            case GRPO -> new GroupOnlineLearner(new GroupPolicyLearner(sft, parent, GroupSettings.grpo(config)));
            case RLOO -> new GroupOnlineLearner(new GroupPolicyLearner(sft, parent, GroupSettings.rloo(config)));
            case DPO, IPO -> new PreferenceOnlineLearner(
                    new PreferenceLearner(sft, parent, preferenceSettings(algorithm, config)), tokenizer);
        };
    }

    /** The settings of DPO ({@code rlhf.dpo}) or IPO ({@code rlhf.ipo}). */
    static DpoSettings preferenceSettings(Algorithm algorithm, Config config) {
        return switch (algorithm) {
            case DPO -> DpoSettings.dpo(config);
            case IPO -> DpoSettings.ipo(config);
            default -> throw new IllegalArgumentException(algorithm.key() + " is not a preference algorithm");
        };
    }

    /**
     * Completions per prompt the algorithm learns from: 1 for PPO (and for DPO and IPO, whose rollouts only measure
     * the policy), the group size for GRPO and RLOO.
     */
    public static int groupSize(Algorithm algorithm, Config config) {
        return switch (algorithm) {
            case PPO, DPO, IPO -> 1;
            case GRPO -> GroupSettings.grpo(config).groupSize();
            case RLOO -> GroupSettings.rloo(config).groupSize();
        };
    }
}
