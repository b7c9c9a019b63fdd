package dev.rlhf.policy.model;

/**
 * Where each token of a batch sits and which keys it may attend to: position ids {@code [batch, length]} and an
 * additive bias {@code [batch, 1, length, length]} ({@code 0} visible, {@link AttentionBias#MASKED} hidden). A padded
 * batch has the {@link #padded} layout; packed layouts put several sequences that share a prefix into one row, each
 * continuation seeing the prefix and itself only and numbering its positions on from the prefix.
 *
 * @param positions {@code batch * length} position ids, row-major
 * @param bias {@code batch * length * length} additive attention bias, row-major
 */
public record AttentionLayout(int batch, int length, long[] positions, float[] bias) {

    public AttentionLayout {
        if (positions.length != batch * length || bias.length != batch * length * length) {
            throw new IllegalArgumentException("a layout of " + batch + " x " + length + " needs "
                    + batch * length + " positions and " + batch * length * length + " bias entries but has "
                    + positions.length + " and " + bias.length);
        }
    }

    /** The layout of a padded batch: causal attention over real tokens, positions counting real tokens only. */
    public static AttentionLayout padded(long[] mask, int batch, int length) {
        return new AttentionLayout(batch, length, AttentionBias.positions(mask, batch, length),
                AttentionBias.causal(mask, batch, length));
    }

    /** The largest position id: it must stay below the model's context length. */
    public long maxPosition() {
        long max = 0;
        for (long position : positions) {
            max = Math.max(max, position);
        }
        return max;
    }

    /**
     * {@code [batch, 1, perRow, length]}: the bias rows of {@code perRow} queries per row, {@code queries} holding row
     * {@code b}'s query positions at {@code b * perRow ..}.
     */
    public float[] biasRows(long[] queries, int perRow) {
        float[] rows = new float[batch * perRow * length];
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < perRow; k++) {
                int query = Math.toIntExact(queries[b * perRow + k]);
                System.arraycopy(bias, (b * length + query) * length, rows, (b * perRow + k) * length, length);
            }
        }
        return rows;
    }
}
