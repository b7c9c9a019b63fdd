package dev.rlhf.policy.align;

/**
 * REINFORCE leave-one-out advantages (Kool et al. 2019, "Buy 4 REINFORCE Samples, Get a Baseline for Free!";
 * Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from Human
 * Feedback in LLMs"): with {@code k} completions per prompt, each completion's baseline is the mean reward of the
 * prompt's other {@code k - 1} completions,
 * <pre>
 *   A_i = r_i - (Σ_j r_j - r_i) / (k - 1)     (= k/(k-1) (r_i - mean))
 * </pre>
 * one advantage per sequence, as TRL's {@code RLOOTrainer} and OpenRLHF's {@code advantage_estimator=rloo}
 * compute it. The rewards are already KL-shaped when the reference penalty goes into the reward, as both do:
 * see {@link #shapeRewards}.
 *
 * <p>Layout: the {@code k} completions of a prompt lie side by side, {@code rewards[g * k + i]} (OpenRLHF's
 * layout). TRL's {@code RLOOTrainer} repeats the whole prompt batch {@code k} times instead (completion {@code i}
 * of prompt {@code g} at {@code i * prompts + g}); reorder before calling if a rollout is built that way.
 *
 * <p>Sequence-level values are few, so this works on Java arrays, in double, without gradients.
 */
public final class RlooAdvantages {
    private RlooAdvantages() {}

    /**
     * @param rewards {@code groups × k} rewards, the completions of each prompt side by side
     * @param k completions per prompt
     * @return the advantages, same layout
     * @throws IllegalArgumentException if {@code k < 2}, {@code k} does not divide a non-empty batch, or a reward
     *     is not finite
     */
    public static double[] compute(double[] rewards, int k) {
        GroupedRewards.require(rewards, k, "k");
        double[] advantages = new double[rewards.length];
        for (int start = 0; start < rewards.length; start += k) {
            double sum = 0;
            for (int i = start; i < start + k; i++) {
                sum += rewards[i];
            }
            for (int i = start; i < start + k; i++) {
                advantages[i] = rewards[i] - (sum - rewards[i]) / (k - 1);
            }
        }
        return advantages;
    }

    /**
     * The reward with the reference penalty folded in, per sequence: {@code score - coefficient · KL} with
     * {@code KL} the k1 estimate summed over the response ({@link KlEstimators#k1Sum}), as TRL's
     * original {@code RLOOTrainer} ({@code rlhf_reward = scores + (-kl_coef * kl).sum(1)}) and OpenRLHF's RLOO
     * (per-token {@code -kl_coef · k1}, summed with the score) both do.
     *
     * @param scores reward-model scores, one per sequence
     * @param klSums {@code Σ_t (log π_old - log π_ref)} over each sequence's response tokens
     * @param coefficient the KL coefficient, not negative
     * @throws IllegalArgumentException if the lengths differ or the coefficient is negative or not finite
     */
    public static double[] shapeRewards(double[] scores, double[] klSums, double coefficient) {
        if (scores.length != klSums.length) {
            throw new IllegalArgumentException("scores and klSums must have the same length but had "
                    + scores.length + " and " + klSums.length);
        }
        if (!(coefficient >= 0) || Double.isInfinite(coefficient)) {
            throw new IllegalArgumentException("the KL coefficient must be finite and not negative but was "
                    + coefficient);
        }
        double[] rewards = new double[scores.length];
        for (int i = 0; i < scores.length; i++) {
            rewards[i] = scores[i] - coefficient * klSums[i];
        }
        return rewards;
    }
}
