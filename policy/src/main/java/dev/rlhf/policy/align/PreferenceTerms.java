package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import dev.rlhf.policy.model.TorchOps;

/**
 * A preference loss over a batch of pairs and its diagnostics, as TRL's {@code DPOTrainer} logs them
 * ({@code rewards/chosen}, {@code rewards/rejected}, {@code rewards/margins}, {@code rewards/accuracies}). Only
 * {@code loss} carries a gradient; the rest are detached. All live in the manager of the policy's log-probs.
 *
 * @param loss scalar, the mean of the per-pair losses
 * @param chosenRewards {@code [batch]} implicit rewards {@code β (π_c - ref_c)}
 * @param rejectedRewards {@code [batch]} implicit rewards {@code β (π_r - ref_r)}
 * @param rewardMargin scalar, the mean of {@code chosenRewards - rejectedRewards}
 * @param rewardAccuracy scalar, the share of pairs whose chosen reward is strictly greater (a tie counts as wrong)
 */
public record PreferenceTerms(
        NDArray loss, NDArray chosenRewards, NDArray rejectedRewards, NDArray rewardMargin, NDArray rewardAccuracy) {

    static PreferenceTerms of(NDArray loss, PreferenceLogprobs logprobs, double beta) {
        NDArray chosen = logprobs.policyChosen().stopGradient().sub(logprobs.referenceChosen());
        chosen = chosen.mul(TorchOps.scalar(chosen, (float) beta));
        NDArray rejected = logprobs.policyRejected().stopGradient().sub(logprobs.referenceRejected());
        rejected = rejected.mul(TorchOps.scalar(rejected, (float) beta));
        NDArray margin = chosen.sub(rejected).mean();
        NDArray accuracy = chosen.gt(rejected).toType(chosen.getDataType(), false).mean();
        return new PreferenceTerms(loss, chosen, rejected, margin, accuracy);
    }
}
