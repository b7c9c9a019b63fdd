package dev.rlhf.policy.align;

/**
 * Checks shared by the group-baseline advantages. A batch holds {@code groups × groupSize} rewards, the completions
 * of one prompt side by side: {@code rewards[g * groupSize + i]} is completion {@code i} of prompt {@code g}
 * (OpenRLHF's {@code rewards.reshape(-1, n_samples_per_prompt)}, TRL's GRPO {@code view(-1, num_generations)}).
 */
final class GroupedRewards {
    private GroupedRewards() {}

    /** @throws IllegalArgumentException unless {@code groupSize >= 2} and it divides a non-empty batch */
    static void require(double[] rewards, int groupSize, String sizeName) {
        if (groupSize < 2) {
            throw new IllegalArgumentException(sizeName + " must be at least 2 (a baseline needs the other "
                    + "completions of the prompt) but was " + groupSize);
        }
        if (rewards.length == 0 || rewards.length % groupSize != 0) {
            throw new IllegalArgumentException("the batch of " + rewards.length + " rewards must be a positive "
                    + "multiple of " + sizeName + " " + groupSize + " (the completions of each prompt side by side)");
        }
        for (int i = 0; i < rewards.length; i++) {
            if (!Double.isFinite(rewards[i])) {
                throw new IllegalArgumentException("reward " + i + " is not finite: " + rewards[i]);
            }
        }
    }

    static double mean(double[] values, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += values[i];
        }
        return sum / (to - from);
    }

    /** The sample (Bessel-corrected, n - 1) standard deviation of {@code values[from, to)}, as {@code torch.std}. */
    static double sampleStd(double[] values, int from, int to) {
        double mean = mean(values, from, to);
        double squares = 0;
        for (int i = from; i < to; i++) {
            squares += (values[i] - mean) * (values[i] - mean);
        }
        return Math.sqrt(squares / (to - from - 1));
    }
}
