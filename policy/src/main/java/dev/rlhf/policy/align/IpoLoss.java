package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import dev.rlhf.policy.model.TorchOps;

/**
 * The IPO loss (Azar et al. 2023, "A General Theoretical Paradigm to Understand Learning from Human Preferences",
 * eq. 17, with TRL's naming: the paper's regulariser τ is β here):
 * <pre>
 *   Δ = (π_c - ref_c) - (π_r - ref_r)
 *   L = (Δ - 1 / (2β))²     averaged over pairs
 * </pre>
 * It regresses the margin onto {@code 1/(2β)} instead of pushing it to infinity, so it does not overfit
 * deterministic preferences. The references disagree on the sequence log-probability: TRL's
 * {@code DPOTrainer} averages it over the response's tokens for {@code loss_type="ipo"}, OpenRLHF's
 * {@code DPOLoss(ipo=True)} sums it; {@code reduction} chooses. The margin is regressed onto the same target
 * either way, but a summed margin grows with the responses' length and an averaged one does not, so a β tuned
 * for one reduction does not carry over to the other. {@code dL/dΔ = 2 (Δ - 1/(2β))}.
 *
 * @param beta β, positive
 * @param reduction how {@link #compute(PreferenceTokens)} reduces per-token log-probabilities
 *     ({@link SequenceLogprobs.Reduction#MEAN} as TRL)
 */
public record IpoLoss(double beta, SequenceLogprobs.Reduction reduction) {

    /**
     * @throws IllegalArgumentException if β is not positive and finite
     * @throws NullPointerException if {@code reduction} is null
     */
    public IpoLoss {
        DpoLoss.requireBeta(beta);
        java.util.Objects.requireNonNull(reduction, "reduction");
    }

    /**
     * @param logprobs sequence log-probabilities, reduced by the caller (this loss's {@code reduction} is not
     *     applied here)
     */
    public PreferenceTerms compute(PreferenceLogprobs logprobs) {
        NDArray margin = logprobs.margin();
        NDArray losses = margin.sub(TorchOps.scalar(margin, (float) (1 / (2 * beta)))).square();
        return PreferenceTerms.of(losses.mean(), logprobs, beta);
    }

    /** {@link #compute(PreferenceLogprobs)} on log-probabilities reduced over tokens as {@code reduction} says. */
    public PreferenceTerms compute(PreferenceTokens tokens) {
        return compute(tokens.sequenceLogprobs(reduction));
    }
}
