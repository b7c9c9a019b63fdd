package dev.rlhf.actors;

import java.util.Arrays;
import java.util.Locale;

/**
 * The algorithm that updates the policy ({@code rlhf.algorithm}); each is a learner behind the same role. Every one
 * rolls out through the rollout workers, is scored by the reward scorer and keeps checkpoints, resume and metrics.
 */
public enum Algorithm {
    /** PPO with a value head, GAE and an adaptive KL penalty in the reward ({@code rlhf.ppo}). */
    PPO,
    /** Leave-one-out baselines over k completions per prompt, KL in the reward, no value head ({@code rlhf.rloo}). */
    RLOO,
    /** Group-relative advantages over G completions per prompt, k3 KL in the loss, no value head ({@code rlhf.grpo}). */
    GRPO;

    /** The key's value: {@code ppo}, {@code rloo} or {@code grpo}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The algorithm a key's value names.
     *
     * @throws IllegalArgumentException naming the key and the values allowed
     */
    public static Algorithm parse(String value) {
        for (Algorithm algorithm : values()) {
            if (algorithm.key().equals(value)) {
                return algorithm;
            }
        }
        throw new IllegalArgumentException("rlhf.algorithm must be one of "
                + Arrays.stream(values()).map(Algorithm::key).toList() + " but was \"" + value + "\"");
    }
}
