package dev.rlhf.policy.ppo;

import java.util.List;

/**
 * Prompt + response token ids of a rollout batch in one padded {@code [batch, promptLength + responseLength]}
 * layout: prompts left-padded so that every response starts at column {@code promptLength}, responses
 * right-padded. Response tensors elsewhere in this package are {@code [batch, responseLength]}, row-major, with
 * column {@code r} the response token at sequence column {@code promptLength + r}.
 *
 * @param batch sequences
 * @param promptLength prompt columns (the longest prompt)
 * @param responseLength response columns (the longest response)
 * @param tokenIds {@code [batch, length]} row-major; padding holds any valid id
 * @param attentionMask {@code [batch, length]}, 1 for real tokens, 0 for padding
 */
public record RolloutSequences(int batch, int promptLength, int responseLength, long[] tokenIds, long[] attentionMask) {

    /**
     * @throws IllegalArgumentException if the arrays do not match the shape, a prompt is empty or not left-padded,
     *     or a response is empty or not right-padded
     */
    public RolloutSequences {
        if (batch <= 0 || promptLength <= 0 || responseLength <= 0) {
            throw new IllegalArgumentException("batch, promptLength and responseLength must be positive but were "
                    + batch + ", " + promptLength + ", " + responseLength);
        }
        int length = promptLength + responseLength;
        if (tokenIds.length != batch * length || attentionMask.length != batch * length) {
            throw new IllegalArgumentException("tokenIds and attentionMask must hold batch * length = "
                    + batch * length + " entries but held " + tokenIds.length + " and " + attentionMask.length);
        }
        for (int b = 0; b < batch; b++) {
            int row = b * length;
            if (attentionMask[row + promptLength - 1] == 0 || attentionMask[row + promptLength] == 0) {
                throw new IllegalArgumentException(
                        "row " + b + " must have at least one prompt and one response token");
            }
            for (int t = 1; t < length; t++) {
                boolean prompt = t < promptLength;
                long previous = attentionMask[row + t - 1];
                long current = attentionMask[row + t];
                if (prompt ? current < previous : t > promptLength && current > previous) {
                    throw new IllegalArgumentException("row " + b + " is not left-padded in its prompt and "
                            + "right-padded in its response (column " + t + ")");
                }
            }
        }
    }

    /**
     * Pads prompts on the left and responses on the right with {@code padId}.
     *
     * @throws IllegalArgumentException if the lists differ in size or are empty, or an entry is empty
     */
    public static RolloutSequences pack(List<int[]> prompts, List<int[]> responses, int padId) {
        if (prompts.isEmpty() || prompts.size() != responses.size()) {
            throw new IllegalArgumentException("prompts and responses must be non-empty and equal in number but were "
                    + prompts.size() + " and " + responses.size());
        }
        int batch = prompts.size();
        int promptLength = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
        int responseLength = responses.stream().mapToInt(r -> r.length).max().orElseThrow();
        int length = promptLength + responseLength;
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        java.util.Arrays.fill(ids, padId);
        for (int b = 0; b < batch; b++) {
            int[] prompt = prompts.get(b);
            int[] response = responses.get(b);
            int offset = b * length + promptLength - prompt.length;
            for (int i = 0; i < prompt.length; i++) {
                ids[offset + i] = prompt[i];
                mask[offset + i] = 1;
            }
            offset = b * length + promptLength;
            for (int i = 0; i < response.length; i++) {
                ids[offset + i] = response[i];
                mask[offset + i] = 1;
            }
        }
        return new RolloutSequences(batch, promptLength, responseLength, ids, mask);
    }

    /** Columns of the padded layout. */
    public int length() {
        return promptLength + responseLength;
    }

    /** {@code [batch, responseLength]}: 1 for real response tokens, 0 for padding. */
    public float[] responseMask() {
        float[] mask = new float[batch * responseLength];
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < responseLength; r++) {
                mask[b * responseLength + r] = attentionMask[b * length() + promptLength + r];
            }
        }
        return mask;
    }

    /** Real response tokens of row {@code b}. */
    public int responseTokens(int b) {
        int count = 0;
        for (int r = 0; r < responseLength; r++) {
            count += (int) attentionMask[b * length() + promptLength + r];
        }
        return count;
    }

    /** The given rows, in that order, in the same layout (for a minibatch). */
    public RolloutSequences rows(int[] rows) {
        int length = length();
        long[] ids = new long[rows.length * length];
        long[] mask = new long[rows.length * length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(tokenIds, rows[i] * length, ids, i * length, length);
            System.arraycopy(attentionMask, rows[i] * length, mask, i * length, length);
        }
        return new RolloutSequences(rows.length, promptLength, responseLength, ids, mask);
    }
}
