package dev.rlhf.policy.model;

/**
 * Position ids and additive attention biases for padded batches, computed on the Java side where they are plain
 * loops. Padding may sit on either side of the real tokens (left for prompts, right for responses, or both);
 * a real token's position counts only the real tokens before it, as Hugging Face does for left padding.
 */
public final class AttentionBias {
    /** Added to the score of a key that must not be attended to; finite so fully-masked rows stay NaN-free. */
    public static final float MASKED = -1e9f;

    private AttentionBias() {}

    /** Position of each token: the number of real tokens before it (padding gets position 0). */
    public static long[] positions(long[] mask, int batch, int length) {
        long[] positions = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            long seen = 0;
            for (int t = 0; t < length; t++) {
                int i = b * length + t;
                positions[i] = mask[i] != 0 ? seen++ : 0;
            }
        }
        return positions;
    }

    /** {@code [batch, 1, length, length]}: 0 where query {@code i} may see key {@code j <= i} that is real. */
    public static float[] causal(long[] mask, int batch, int length) {
        float[] bias = new float[batch * length * length];
        for (int b = 0; b < batch; b++) {
            int rowBase = b * length * length;
            for (int i = 0; i < length; i++) {
                for (int j = 0; j < length; j++) {
                    boolean visible = j <= i && mask[b * length + j] != 0;
                    bias[rowBase + i * length + j] = visible ? 0f : MASKED;
                }
            }
        }
        return bias;
    }
}
