package dev.rlhf.policy.ppo;

/**
 * The rows one PPO step trains on and what the rollout fixed for them, per-token arrays
 * {@code [batch, responseLength]} row-major.
 */
record MinibatchData(
        RolloutSequences sequences,
        float[] oldLogprobs,
        float[] oldValues,
        float[] advantages,
        float[] returns,
        float[] mask) {

    /** The given rows, in that order. */
    MinibatchData rows(int[] rows) {
        int width = sequences.responseLength();
        return new MinibatchData(sequences.rows(rows), pick(oldLogprobs, rows, width), pick(oldValues, rows, width),
                pick(advantages, rows, width), pick(returns, rows, width), pick(mask, rows, width));
    }

    private static float[] pick(float[] rowMajor, int[] rows, int width) {
        float[] out = new float[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rowMajor, rows[i] * width, out, i * width, width);
        }
        return out;
    }
}
