package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;

/**
 * A sequence's log-probability from its per-token log-probabilities, over response tokens only:
 * <ul>
 *   <li>{@link Reduction#SUM}: {@code Σ_t m_t log π(y_t)}, the log-probability of the whole response, as the DPO
 *       paper, TRL's DPO loss and OpenRLHF's DPO and IPO losses use it;</li>
 *   <li>{@link Reduction#MEAN}: {@code Σ_t m_t log π(y_t) / Σ_t m_t}, length-normalised, as TRL's
 *       {@code DPOTrainer} uses it for {@code loss_type="ipo"} and SimPO does.</li>
 * </ul>
 * Padded positions ({@code m_t = 0}) are selected away, not multiplied by 0, so any garbage there, NaN and
 * infinity included, changes neither the result nor the gradient (which is exactly 0 there). A row without a
 * response token sums to 0 and averages to 0.
 */
public final class SequenceLogprobs {

    /** How per-token log-probabilities become a sequence's. */
    public enum Reduction {
        /** Summed over response tokens. */
        SUM,
        /** Averaged over response tokens. */
        MEAN
    }

    private SequenceLogprobs() {}

    /**
     * @param logprobs {@code [batch, time]} per-token log-probabilities, any value on padding
     * @param mask {@code [batch, time]} float, non-zero (1) for response tokens
     * @return {@code [batch]}, in {@code logprobs}' manager, differentiable with respect to {@code logprobs}
     * @throws IllegalArgumentException unless both are {@code [batch, time]} of the same shape
     */
    public static NDArray sum(NDArray logprobs, NDArray mask) {
        ResponseMask.requireTokenShape("logprobs", logprobs, mask);
        return ResponseMask.select(logprobs, mask).sum(new int[] {1});
    }

    /**
     * @param logprobs {@code [batch, time]} per-token log-probabilities, any value on padding
     * @param mask {@code [batch, time]} float, non-zero (1) for response tokens
     * @return {@code [batch]}, in {@code logprobs}' manager, differentiable with respect to {@code logprobs}
     * @throws IllegalArgumentException unless both are {@code [batch, time]} of the same shape
     */
    public static NDArray mean(NDArray logprobs, NDArray mask) {
        return sum(logprobs, mask).div(ResponseMask.countPerRow(mask, logprobs));
    }

    /** {@link #sum} or {@link #mean}. */
    public static NDArray reduce(NDArray logprobs, NDArray mask, Reduction reduction) {
        return switch (reduction) {
            case SUM -> sum(logprobs, mask);
            case MEAN -> mean(logprobs, mask);
        };
    }
}
