package dev.rlhf.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Next-token cross-entropy and per-token log-probabilities of given tokens under a model's logits. */
public final class CausalLmLoss {
    private CausalLmLoss() {}

    /**
     * Log-probability of each token given the ones before it.
     *
     * @param logits {@code [batch, length, vocab]}
     * @param tokenIds {@code [batch, length]} int64
     * @return {@code [batch, length - 1]}: entry {@code t} is {@code log p(token[t + 1] | tokens[0..t])}
     */
    public static NDArray tokenLogProbs(NDArray logits, NDArray tokenIds) {
        long length = logits.getShape().get(1);
        NDArray predicting = logits.get(":, :{}, :", length - 1).logSoftmax(-1);
        NDArray targets = tokenIds.get(":, 1:").toType(DataType.INT64, false).expandDims(-1);
        return predicting.gather(targets, 2).squeeze(-1);
    }

    /**
     * Mean negative log-likelihood over the predicted tokens selected by {@code lossMask}.
     *
     * @param lossMask {@code [batch, length]}, 1 where the token at that position is a training target (its
     *     prediction comes from the position before); position 0 is never a target
     * @return a scalar
     */
    public static NDArray loss(NDArray logits, NDArray tokenIds, NDArray lossMask) {
        NDArray targetsMask = lossMask.get(":, 1:").toType(DataType.FLOAT32, false);
        NDArray logProbs = tokenLogProbs(logits, tokenIds);
        return logProbs.mul(targetsMask).sum().neg().div(targetsMask.sum().maximum(1f));
    }
}
