package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * One preference pair at the token level. Chosen: two response tokens and a pad, policy −4 + −6 = −10 (mean −5),
 * reference −5.5 + −5.5 = −11 (mean −5.5). Rejected: one response token and three pads, policy −12, reference
 * −11. Summed Δ = (−10 + 11) − (−12 + 11) = 2; averaged Δ = 0.5 − (−1) = 1.5.
 */
final class OnePair {
    static final float[] POLICY_CHOSEN = {-4f, -6f, 0f};
    static final float[] REF_CHOSEN = {-5.5f, -5.5f, 0f};
    static final float[] CHOSEN_MASK = {1, 1, 0};
    static final float[] POLICY_REJECTED = {-12f, 0f, 0f, 0f};
    static final float[] REF_REJECTED = {-11f, 0f, 0f, 0f};
    static final float[] REJECTED_MASK = {1, 0, 0, 0};

    final NDArray policyChosen;
    final NDArray policyRejected;
    final PreferenceTokens tokens;

    /** The pair in {@code manager}, padding zeros or garbage, the policy's log-probs requiring gradients. */
    OnePair(NDManager manager, boolean garbage) {
        policyChosen = create(manager, POLICY_CHOSEN, CHOSEN_MASK, garbage);
        policyRejected = create(manager, POLICY_REJECTED, REJECTED_MASK, garbage);
        policyChosen.setRequiresGradient(true);
        policyRejected.setRequiresGradient(true);
        tokens = new PreferenceTokens(
                policyChosen,
                create(manager, REF_CHOSEN, CHOSEN_MASK, garbage),
                manager.create(CHOSEN_MASK, new Shape(1, CHOSEN_MASK.length)),
                policyRejected,
                create(manager, REF_REJECTED, REJECTED_MASK, garbage),
                manager.create(REJECTED_MASK, new Shape(1, REJECTED_MASK.length)));
    }

    private static NDArray create(NDManager manager, float[] values, float[] mask, boolean garbage) {
        return manager.create(Garbage.pad(values, mask, garbage), new Shape(1, values.length));
    }

    /** Sequence-level log-probs {@code [n]} in {@code manager}. */
    static PreferenceLogprobs sequences(NDManager manager, float[] policyChosen, float[] policyRejected,
            float[] refChosen, float[] refRejected) {
        return new PreferenceLogprobs(manager.create(policyChosen), manager.create(policyRejected),
                manager.create(refChosen), manager.create(refRejected));
    }
}
