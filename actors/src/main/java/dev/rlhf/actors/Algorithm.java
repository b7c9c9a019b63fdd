package dev.rlhf.actors;

import java.util.Arrays;
import java.util.Locale;

/**
 * The algorithm that updates the policy ({@code rlhf.algorithm}); each is a learner behind the same role. Every one
 * rolls out through the rollout workers, is scored by the reward scorer and keeps checkpoints, resume and metrics.
 * The offline ones ({@link #offline()}: DPO, IPO) learn from the judged initial comparisons instead of the rollout,
 * one epoch of them per iteration, for at most their {@code epochs} iterations; their rollouts only measure the
 * policy.
 */
public enum Algorithm {
    /** PPO with a value head, GAE and an adaptive KL penalty in the reward ({@code rlhf.ppo}). */
    PPO,
    /** Leave-one-out baselines over k completions per prompt, KL in the reward, no value head ({@code rlhf.rloo}). */
    RLOO,
    /** Group-relative advantages over G completions per prompt, k3 KL in the loss, no value head ({@code rlhf.grpo}). */
    GRPO,
    /** Offline DPO on the judged initial comparisons, one epoch per iteration ({@code rlhf.dpo}). */
    DPO,
    /** Offline IPO on the judged initial comparisons, one epoch per iteration ({@code rlhf.ipo}). */
    IPO;

    /**
     * Whether the algorithm learns from preference pairs (the judged initial comparisons) rather than from the
     * scored rollout: DPO and IPO. Their runs send no iteration pairs for judgment.
     */
    public boolean offline() {
        return this == DPO || this == IPO;
    }

    /** The key's value: {@code ppo}, {@code rloo}, {@code grpo}, {@code dpo} or {@code ipo}. */
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
