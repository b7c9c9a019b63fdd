package dev.rlhf.rewardmodel;

/**
 * Shifts and scales raw reward-model scores so that scores of a reference sample (responses of the SFT policy to
 * held-out prompts, say) have mean 0 and unit variance, which keeps PPO's reward scale independent of how the
 * reward model happened to train.
 *
 * @param mean mean raw score of the reference sample
 * @param std population standard deviation of the raw reference scores; positive
 * @param samples size of the reference sample (0 for {@link #IDENTITY})
 */
public record RewardNormalizer(double mean, double std, int samples) {
    /** Leaves scores as they are. */
    public static final RewardNormalizer IDENTITY = new RewardNormalizer(0, 1, 0);

    public RewardNormalizer {
        if (!Double.isFinite(mean)) {
            throw new IllegalArgumentException("mean must be finite but was " + mean);
        }
        if (!(std > 0) || Double.isInfinite(std)) {
            throw new IllegalArgumentException("std must be positive and finite but was " + std);
        }
        if (samples < 0) {
            throw new IllegalArgumentException("samples must not be negative but was " + samples);
        }
    }

    /**
     * The statistics of raw reference scores.
     *
     * @throws IllegalArgumentException if there are fewer than two scores or they are all equal
     */
    public static RewardNormalizer fit(float[] referenceScores) {
        if (referenceScores.length < 2) {
            throw new IllegalArgumentException(
                    "referenceScores needs at least 2 scores but has " + referenceScores.length);
        }
        double sum = 0;
        for (float s : referenceScores) {
            sum += s;
        }
        double mean = sum / referenceScores.length;
        double squares = 0;
        for (float s : referenceScores) {
            squares += (s - mean) * (s - mean);
        }
        double std = Math.sqrt(squares / referenceScores.length);
        if (!(std > 0)) {
            throw new IllegalArgumentException("referenceScores are all equal (" + mean + "); nothing to scale");
        }
        return new RewardNormalizer(mean, std, referenceScores.length);
    }

    /** The normalised score of a raw one. */
    public double normalize(double rawScore) {
        return (rawScore - mean) / std;
    }
}
