package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;

/**
 * Per-token log-probabilities of a batch of preference pairs: chosen responses {@code [batch, chosenTime]} under
 * the policy and the reference with their response mask, rejected ones {@code [batch, rejectedTime]} likewise.
 * The masks are float, non-zero (1) for response tokens; padded positions may hold anything.
 *
 * @throws IllegalArgumentException unless the chosen arrays share one {@code [batch, time]} shape, the rejected
 *     ones another, and both have the same batch
 */
public record PreferenceTokens(
        NDArray policyChosen,
        NDArray referenceChosen,
        NDArray chosenMask,
        NDArray policyRejected,
        NDArray referenceRejected,
        NDArray rejectedMask) {

    public PreferenceTokens {
        ResponseMask.requireTokenShape("policyChosen", policyChosen, chosenMask);
        ResponseMask.requireTokenShape("referenceChosen", referenceChosen, chosenMask);
        ResponseMask.requireTokenShape("policyRejected", policyRejected, rejectedMask);
        ResponseMask.requireTokenShape("referenceRejected", referenceRejected, rejectedMask);
        if (chosenMask.getShape().get(0) != rejectedMask.getShape().get(0)) {
            throw new IllegalArgumentException("chosen and rejected must have the same batch but had "
                    + chosenMask.getShape().get(0) + " and " + rejectedMask.getShape().get(0));
        }
    }

    /** The four sequence log-probabilities, reduced over response tokens as {@code reduction} says. */
    public PreferenceLogprobs sequenceLogprobs(SequenceLogprobs.Reduction reduction) {
        return new PreferenceLogprobs(
                SequenceLogprobs.reduce(policyChosen, chosenMask, reduction),
                SequenceLogprobs.reduce(policyRejected, rejectedMask, reduction),
                SequenceLogprobs.reduce(referenceChosen, chosenMask, reduction),
                SequenceLogprobs.reduce(referenceRejected, rejectedMask, reduction));
    }
}
