package dev.rlhf.policy.ppo;

/**
 * Per-token rewards of a batch, as TRL's {@code compute_rewards} and OpenRLHF's {@code compute_reward}: every
 * response token earns {@code -β (log π_old - log π_ref)}, and the last real response token also earns the
 * sequence's (optionally whitened, then clipped) reward-model score.
 */
public final class TokenRewards {
    private static final double EPSILON = 1e-8;

    private TokenRewards() {}

    /**
     * @param scores one score per sequence
     * @param logprobs {@code [batch, responseLength]} log π_old
     * @param refLogprobs {@code [batch, responseLength]} log π_ref
     * @param mask {@code [batch, responseLength]} 1 for real response tokens (right-padded, at least one per row)
     * @param klCoefficient β
     * @param whitenScores standardise the scores over the batch first (population variance)
     * @param scoreClip clip scores to {@code [-scoreClip, scoreClip]} after whitening; 0 disables
     * @return {@code [batch, responseLength]} rewards, 0 on padding
     * @throws IllegalArgumentException if the shapes disagree or a row has no response token
     */
    public static float[] shape(float[] scores, float[] logprobs, float[] refLogprobs, float[] mask,
            double klCoefficient, boolean whitenScores, double scoreClip) {
        int batch = scores.length;
        if (batch == 0 || logprobs.length % batch != 0
                || refLogprobs.length != logprobs.length || mask.length != logprobs.length) {
            throw new IllegalArgumentException("logprobs, refLogprobs and mask must each hold batch * responseLength "
                    + "entries for batch " + batch + " but held " + logprobs.length + ", " + refLogprobs.length
                    + ", " + mask.length);
        }
        int responseLength = logprobs.length / batch;
        double[] processed = processScores(scores, whitenScores, scoreClip);
        float[] rewards = new float[logprobs.length];
        for (int b = 0; b < batch; b++) {
            int last = -1;
            for (int r = 0; r < responseLength; r++) {
                int i = b * responseLength + r;
                if (mask[i] != 0) {
                    rewards[i] = (float) (-klCoefficient * (logprobs[i] - refLogprobs[i]));
                    last = i;
                }
            }
            if (last < 0) {
                throw new IllegalArgumentException("row " + b + " has no response token");
            }
            rewards[last] += (float) processed[b];
        }
        return rewards;
    }

    /**
     * Mean over sequences of the summed per-token {@code log π_old - log π_ref} over response tokens: the KL
     * estimate TRL logs as {@code objective/kl} and feeds the adaptive controller.
     */
    public static double sequenceKl(float[] logprobs, float[] refLogprobs, float[] mask, int batch) {
        double sum = 0;
        for (double kl : klPerSequence(logprobs, refLogprobs, mask, batch)) {
            sum += kl;
        }
        return sum / batch;
    }

    /** Each sequence's summed per-token {@code log π_old - log π_ref} over its response tokens. */
    public static double[] klPerSequence(float[] logprobs, float[] refLogprobs, float[] mask, int batch) {
        double[] kl = new double[batch];
        int responseLength = logprobs.length / batch;
        for (int i = 0; i < logprobs.length; i++) {
            kl[i / responseLength] += mask[i] * ((double) logprobs[i] - refLogprobs[i]);
        }
        return kl;
    }

    private static double[] processScores(float[] scores, boolean whiten, double clip) {
        double[] out = new double[scores.length];
        double mean = 0;
        for (float s : scores) {
            mean += s;
        }
        mean /= scores.length;
        double variance = 0;
        for (float s : scores) {
            variance += (s - mean) * (s - mean);
        }
        variance /= scores.length;
        for (int b = 0; b < scores.length; b++) {
            double s = whiten ? (scores[b] - mean) / Math.sqrt(variance + EPSILON) : scores[b];
            out[b] = clip > 0 ? Math.max(-clip, Math.min(clip, s)) : s;
        }
        return out;
    }
}
