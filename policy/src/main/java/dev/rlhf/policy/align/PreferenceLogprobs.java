package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;

/**
 * Sequence log-probabilities of a batch of preference pairs, each {@code [batch]}: the policy's (differentiable)
 * and the frozen reference model's, for the chosen and the rejected response of each pair.
 *
 * @throws IllegalArgumentException unless all four are {@code [batch]} with the same batch
 */
public record PreferenceLogprobs(
        NDArray policyChosen, NDArray policyRejected, NDArray referenceChosen, NDArray referenceRejected) {

    public PreferenceLogprobs {
        ResponseMask.requireSequenceShape("policyChosen, policyRejected, referenceChosen and referenceRejected",
                policyChosen, policyRejected, referenceChosen, referenceRejected);
    }

    /**
     * {@code Δ = (π_c - ref_c) - (π_r - ref_r)}, {@code [batch]}: how much more the policy than the reference
     * prefers the chosen response (the {@code logits} of TRL's {@code dpo_loss}).
     */
    NDArray margin() {
        return policyChosen.sub(referenceChosen).sub(policyRejected.sub(referenceRejected));
    }
}
