package dev.rlhf.rewardmodel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Token sequences of unequal length as one right-padded batch: the natural layout for prompt + response
 * sequences, whose last real token sits at a different position in each row.
 *
 * @param tokenIds {@code [batch, length]} int64, padding filled with token 0
 * @param attentionMask {@code [batch, length]} int64, 1 for real tokens and 0 for padding
 */
public record TokenBatch(NDArray tokenIds, NDArray attentionMask) {

    /**
     * Pads {@code sequences} on the right to the longest of them, allocating in {@code manager}.
     *
     * @throws IllegalArgumentException if there are no sequences or one of them is empty
     */
    public static TokenBatch rightPadded(List<int[]> sequences, NDManager manager) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("sequences must not be empty");
        }
        int length = 0;
        for (int i = 0; i < sequences.size(); i++) {
            if (sequences.get(i).length == 0) {
                throw new IllegalArgumentException("sequences[" + i + "] must not be empty");
            }
            length = Math.max(length, sequences.get(i).length);
        }
        int batch = sequences.size();
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            int[] tokens = sequences.get(b);
            for (int t = 0; t < tokens.length; t++) {
                ids[b * length + t] = tokens[t];
                mask[b * length + t] = 1;
            }
        }
        Shape shape = new Shape(batch, length);
        return new TokenBatch(manager.create(ids, shape), manager.create(mask, shape));
    }
}
