package dev.rlhf.policy.ppo;

import ai.djl.ndarray.NDArray;
import dev.rlhf.policy.model.GptModel;

/**
 * One forward pass that produces only what PPO reads (and the preference learner of {@code dev.rlhf.policy.align}):
 * for each response token, its log-probability and the value at the position that predicts it. The language-model head, and the last block's query, attention and MLP, run on
 * the {@code responseLength} predicting positions alone, not on the whole sequence: at the benchmark's 32 + 64
 * shape that saves a third of the head's cost and of the last block's.
 *
 * @param logSoftmax {@code [batch, responseLength, vocab]} log-softmax at each predicting position
 * @param logprobs {@code [batch, responseLength]} log-probability of each response token
 * @param values {@code [batch, responseLength]} value head at each predicting position, or {@code null}
 */
public record ResponseForward(NDArray logSoftmax, NDArray logprobs, NDArray values) {

    /**
     * Runs {@code model} on a padded batch; results live in the manager of {@code tokenIds}.
     *
     * @param tokenIds {@code [batch, promptLength + responseLength]} int64
     * @param attentionMask same shape, int64
     */
    public static ResponseForward run(
            GptModel model, NDArray tokenIds, NDArray attentionMask, int promptLength, boolean withValues) {
        int batch = Math.toIntExact(tokenIds.getShape().get(0));
        int responseLength = Math.toIntExact(tokenIds.getShape().get(1)) - promptLength;
        // position t predicts token t + 1: the response tokens [P, T) are predicted from [P - 1, T - 1)
        long[] predictingColumns = new long[batch * responseLength];
        for (int i = 0; i < predictingColumns.length; i++) {
            predictingColumns[i] = promptLength - 1 + i % responseLength;
        }
        NDArray predicting = model.hiddenStatesAt(tokenIds, attentionMask, predictingColumns)
                .reshape(batch, responseLength, model.config().dModel());
        NDArray logSoftmax = model.logits(predicting).logSoftmax(-1);
        NDArray targets = tokenIds.get(":, {}:", promptLength).expandDims(-1);
        NDArray logprobs = logSoftmax.gather(targets, 2).squeeze(-1);
        return new ResponseForward(logSoftmax, logprobs, withValues ? model.values(predicting) : null);
    }

    /** {@code [batch, responseLength]} entropy of each distribution given its log-softmax {@code [..., vocab]}. */
    public static NDArray entropy(NDArray logSoftmax) {
        return logSoftmax.exp().mul(logSoftmax).sum(new int[] {-1}).neg();
    }
}
