package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import dev.rlhf.policy.model.TorchOps;

/**
 * The DPO loss (Rafailov et al. 2023, "Direct Preference Optimization", eq. 7), with the conservative label
 * smoothing of cDPO (Mitchell 2023, "A note on DPO with noisy preferences"), exactly as TRL's
 * {@code DPOTrainer.dpo_loss} with {@code loss_type="sigmoid"} and OpenRLHF's {@code DPOLoss}:
 * <pre>
 *   Δ = (π_c - ref_c) - (π_r - ref_r)
 *   L = -(1 - ε) log σ(β Δ) - ε log σ(-β Δ)     averaged over pairs
 * </pre>
 * with {@code π} and {@code ref} the summed log-probabilities of the responses (the paper's sequence likelihood;
 * TRL and OpenRLHF sum too). {@code -log σ(x)} is computed as {@code softplus(-x)} (PyTorch's, linear above 20), which neither overflows nor
 * loses precision for large {@code |x|}. {@code dL/dΔ = -β ((1 - ε) σ(-βΔ) - ε σ(βΔ))}.
 *
 * @param beta β, the strength of the implicit KL regularisation, positive (TRL's default 0.1)
 * @param labelSmoothing ε, the assumed probability that a label is flipped, in {@code [0, 0.5)}; 0 is plain DPO
 */
public record DpoLoss(double beta, double labelSmoothing) {

    /**
     * @throws IllegalArgumentException if β is not positive and finite or ε is outside {@code [0, 0.5)}
     */
    public DpoLoss {
        requireBeta(beta);
        if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
            throw new IllegalArgumentException(
                    "labelSmoothing ε must be in [0, 0.5) but was " + labelSmoothing);
        }
    }

    /** Plain DPO, without label smoothing. */
    public DpoLoss(double beta) {
        this(beta, 0);
    }

    /**
     * @param logprobs summed sequence log-probabilities (see {@link SequenceLogprobs#sum})
     */
    public PreferenceTerms compute(PreferenceLogprobs logprobs) {
        NDArray margin = logprobs.margin();
        NDArray scaled = margin.mul(TorchOps.scalar(margin, (float) beta));
        // -log σ(x) = softplus(-x)
        NDArray losses = Activation.softPlus(scaled.neg());
        if (labelSmoothing > 0) {
            losses = losses.mul(TorchOps.scalar(losses, (float) (1 - labelSmoothing)))
                    .add(Activation.softPlus(scaled).mul(TorchOps.scalar(losses, (float) labelSmoothing)));
        }
        return PreferenceTerms.of(losses.mean(), logprobs, beta);
    }

    /** {@link #compute(PreferenceLogprobs)} on log-probabilities summed over each response's tokens. */
    public PreferenceTerms compute(PreferenceTokens tokens) {
        return compute(tokens.sequenceLogprobs(SequenceLogprobs.Reduction.SUM));
    }

    static void requireBeta(double beta) {
        if (!(beta > 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("beta β must be positive and finite but was " + beta);
        }
    }
}
