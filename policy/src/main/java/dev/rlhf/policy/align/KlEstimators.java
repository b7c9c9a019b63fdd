package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import dev.rlhf.policy.model.TorchOps;

/**
 * Monte-Carlo estimators of {@code KL(π || π_ref)} from the log-probabilities of tokens sampled from π
 * (Schulman 2020, "Approximating KL Divergence"), over response tokens only; padding is selected away, so any
 * garbage there changes neither the value nor the gradient.
 * <ul>
 *   <li>k1 {@code = log π - log π_ref}: unbiased, high variance, can be negative per token; the reward penalty
 *       of PPO and RLOO (TRL, OpenRLHF's default);</li>
 *   <li>k3 {@code = exp(log π_ref - log π) - (log π_ref - log π) - 1}: unbiased, never negative, lower
 *       variance; the per-token penalty in GRPO's loss (DeepSeekMath eq. 4, TRL's {@code GRPOTrainer}).</li>
 * </ul>
 */
public final class KlEstimators {
    private KlEstimators() {}

    /**
     * @param logprobs {@code [batch, time]} log π (differentiable or not)
     * @param refLogprobs {@code [batch, time]} log π_ref
     * @param mask {@code [batch, time]} float, non-zero (1) for response tokens
     * @return {@code [batch]} {@code Σ_t (log π - log π_ref)} over response tokens, in {@code logprobs}' manager
     * @throws IllegalArgumentException if the shapes differ or are not {@code [batch, time]}
     */
    public static NDArray k1Sum(NDArray logprobs, NDArray refLogprobs, NDArray mask) {
        ResponseMask.requireTokenShape("logprobs", logprobs, mask);
        ResponseMask.requireTokenShape("refLogprobs", refLogprobs, mask);
        return ResponseMask.select(logprobs, mask).sub(ResponseMask.select(refLogprobs, mask)).sum(new int[] {1});
    }

    /**
     * @param logprobs {@code [batch, time]} log π, differentiable:
     *     {@code d k3 / d log π = 1 - exp(log π_ref - log π)}
     * @param refLogprobs {@code [batch, time]} log π_ref
     * @param mask {@code [batch, time]} float, non-zero (1) for response tokens
     * @return {@code [batch, time]} per-token k3, 0 on padding, in {@code logprobs}' manager
     * @throws IllegalArgumentException if the shapes differ or are not {@code [batch, time]}
     */
    public static NDArray k3(NDArray logprobs, NDArray refLogprobs, NDArray mask) {
        ResponseMask.requireTokenShape("logprobs", logprobs, mask);
        ResponseMask.requireTokenShape("refLogprobs", refLogprobs, mask);
        // padding becomes log π = log π_ref = 0 first, where k3 is exactly 0 with a finite gradient
        NDArray logRatio = ResponseMask.select(refLogprobs, mask).sub(ResponseMask.select(logprobs, mask));
        return logRatio.exp().sub(logRatio).sub(TorchOps.scalar(logRatio, 1f));
    }
}
