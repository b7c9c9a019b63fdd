package dev.rlhf.policy.ppo;

import ai.djl.ndarray.NDArray;
import dev.rlhf.policy.model.GptModel;

/**
 * One forward pass that produces only what PPO reads: for each response token, its log-probability and the value
 * at the position that predicts it. The language-model head runs on the {@code responseLength} predicting positions
 * alone, not on the whole sequence, which saves a third of its cost at the benchmark's 32 + 64 shape.
 *
 * @param logSoftmax {@code [batch, responseLength, vocab]} log-softmax at each predicting position
 * @param logprobs {@code [batch, responseLength]} log-probability of each response token
 * @param values {@code [batch, responseLength]} value head at each predicting position, or {@code null}
 */
record ResponseForward(NDArray logSoftmax, NDArray logprobs, NDArray values) {

    /**
     * Runs {@code model} on a padded batch; results live in the manager of {@code tokenIds}.
     *
     * @param tokenIds {@code [batch, promptLength + responseLength]} int64
     * @param attentionMask same shape, int64
     */
    static ResponseForward run(
            GptModel model, NDArray tokenIds, NDArray attentionMask, int promptLength, boolean withValues) {
        long length = tokenIds.getShape().get(1);
        NDArray hidden = model.hiddenStates(tokenIds, attentionMask, null);
        // position t predicts token t + 1: the response tokens [P, T) are predicted from [P - 1, T - 1)
        NDArray predicting = hidden.get(":, {}:{}, :", promptLength - 1, length - 1);
        NDArray logSoftmax = model.logits(predicting).logSoftmax(-1);
        NDArray targets = tokenIds.get(":, {}:", promptLength).expandDims(-1);
        NDArray logprobs = logSoftmax.gather(targets, 2).squeeze(-1);
        return new ResponseForward(logSoftmax, logprobs, withValues ? model.values(predicting) : null);
    }

    /** {@code [batch, responseLength]} entropy of each distribution given its log-softmax {@code [..., vocab]}. */
    static NDArray entropy(NDArray logSoftmax) {
        return logSoftmax.exp().mul(logSoftmax).sum(new int[] {-1}).neg();
    }
}
