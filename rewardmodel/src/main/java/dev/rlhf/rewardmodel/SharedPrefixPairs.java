package dev.rlhf.rewardmodel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.AttentionBias;
import dev.rlhf.policy.model.AttentionLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Preference pairs packed one pair per row, their common prefix (normally the prompt) computed once: the chosen
 * sequence, then the rejected sequence's tokens after the prefix, then padding. The rejected continuation sees
 * the prefix and itself, not the chosen one, and numbers its positions on from the prefix, so with causal
 * attention every token has exactly the context it has in its own sequence and the scores equal those of the two
 * sequences scored apart, at fewer token positions (32 + 64 + 64 instead of 2 × 96 for a 32-token prompt).
 *
 * @param tokenIds {@code [pairs, length]} int64
 * @param layout positions and attention bias of the packed rows
 * @param ends per row, the positions of the chosen and then the rejected sequence's last token
 */
public record SharedPrefixPairs(NDArray tokenIds, AttentionLayout layout, long[] ends) {

    /** Packs {@code pairs} into {@code manager}. */
    public static SharedPrefixPairs pack(List<PreferenceExample> pairs, NDManager manager) {
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("pairs must not be empty");
        }
        int batch = pairs.size();
        int[] shared = new int[batch];
        int length = 0;
        for (int b = 0; b < batch; b++) {
            shared[b] = sharedPrefix(pairs.get(b).chosen(), pairs.get(b).rejected());
            length = Math.max(length, pairs.get(b).chosen().length + pairs.get(b).rejected().length - shared[b]);
        }
        long[] ids = new long[batch * length];
        long[] positions = new long[batch * length];
        float[] bias = new float[batch * length * length];
        Arrays.fill(bias, AttentionBias.MASKED);
        long[] ends = new long[2 * batch];
        for (int b = 0; b < batch; b++) {
            int[] chosen = pairs.get(b).chosen();
            int[] rejected = pairs.get(b).rejected();
            int split = chosen.length; // where the rejected continuation starts in the row
            int used = split + rejected.length - shared[b];
            for (int t = 0; t < used; t++) {
                int base = b * length + t;
                boolean inRejected = t >= split;
                ids[base] = inRejected ? rejected[shared[b] + t - split] : chosen[t];
                positions[base] = inRejected ? shared[b] + t - split : t;
                for (int key = 0; key <= t; key++) {
                    boolean chosenContinuation = key >= shared[b] && key < split;
                    if (!(inRejected && chosenContinuation)) {
                        bias[base * length + key] = 0f;
                    }
                }
            }
            ends[2 * b] = split - 1;
            ends[2 * b + 1] = used - 1;
        }
        return new SharedPrefixPairs(manager.create(ids, new Shape(batch, length)),
                new AttentionLayout(batch, length, positions, bias), ends);
    }

    /**
     * Length of the common prefix of two sequences, at most one less than the shorter, so that each sequence keeps
     * a last token of its own for the score to be read at.
     */
    static int sharedPrefix(int[] a, int[] b) {
        int limit = Math.min(a.length, b.length) - 1;
        int n = 0;
        while (n < limit && a[n] == b[n]) {
            n++;
        }
        return n;
    }
}
