package dev.rlhf.policy.align;

/**
 * GRPO's group-relative advantages (Shao et al. 2024, "DeepSeekMath", §4.1.2, outcome supervision), one per
 * sequence, as TRL's {@code GRPOTrainer}:
 * <pre>
 *   A_i = (r_i - mean_group(r)) / (std + ε)
 * </pre>
 * with {@code std} the sample (n - 1) standard deviation, as {@code torch.std} in TRL, chosen by {@link Scaling}:
 * <ul>
 *   <li>{@link Scaling#GROUP}: of the prompt's group (GRPO; TRL {@code scale_rewards="group"});</li>
 *   <li>{@link Scaling#BATCH}: of the whole batch, the mean still the group's (TRL {@code scale_rewards="batch"},
 *       the "Lite PPO" of Liu et al. 2025, "Tricks or Traps? A Deep Dive into RL for LLM Reasoning"): a group
 *       with nearly equal rewards is not blown up;</li>
 *   <li>{@link Scaling#NONE}: no division, {@code A_i = r_i - mean_group(r)} (Dr. GRPO, Liu et al. 2025,
 *       "Understanding R1-Zero-Like Training": the std term favours questions that are too easy or too
 *       hard).</li>
 * </ul>
 * Layout: the completions of a prompt side by side, {@code rewards[g * groupSize + i]}. A group whose rewards
 * are all equal gets advantages 0, up to rounding, and so no policy gradient, whatever the scaling.
 *
 * <p>Sequence-level values are few, so this works on Java arrays, in double, without gradients.
 */
public final class GrpoAdvantages {

    /** What the centred rewards are divided by. */
    public enum Scaling {
        /** The sample std of the prompt's group, plus ε. */
        GROUP,
        /** The sample std of the whole batch, plus ε. */
        BATCH,
        /** Nothing (Dr. GRPO). */
        NONE
    }

    /** TRL's ε added to the std. */
    public static final double DEFAULT_EPSILON = 1e-4;

    private GrpoAdvantages() {}

    /**
     * @param rewards {@code groups × groupSize} rewards, the completions of each prompt side by side
     * @param groupSize completions per prompt
     * @param scaling what to divide by
     * @param epsilon ε added to the std, positive (unused with {@link Scaling#NONE})
     * @return the advantages, same layout
     * @throws IllegalArgumentException if {@code groupSize < 2}, it does not divide a non-empty batch, a reward is
     *     not finite, or ε is not positive and finite
     */
    public static double[] compute(double[] rewards, int groupSize, Scaling scaling, double epsilon) {
        GroupedRewards.require(rewards, groupSize, "groupSize");
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw new IllegalArgumentException("epsilon must be positive and finite but was " + epsilon);
        }
        double batchStd = GroupedRewards.sampleStd(rewards, 0, rewards.length);
        double[] advantages = new double[rewards.length];
        for (int start = 0; start < rewards.length; start += groupSize) {
            int end = start + groupSize;
            double mean = GroupedRewards.mean(rewards, start, end);
            double scale = switch (scaling) {
                case GROUP -> 1 / (GroupedRewards.sampleStd(rewards, start, end) + epsilon);
                case BATCH -> 1 / (batchStd + epsilon);
                case NONE -> 1;
            };
            for (int i = start; i < end; i++) {
                advantages[i] = (rewards[i] - mean) * scale;
            }
        }
        return advantages;
    }

    /** {@link #compute(double[], int, Scaling, double)} with TRL's ε of {@value #DEFAULT_EPSILON}. */
    public static double[] compute(double[] rewards, int groupSize, Scaling scaling) {
        return compute(rewards, groupSize, scaling, DEFAULT_EPSILON);
    }
}
