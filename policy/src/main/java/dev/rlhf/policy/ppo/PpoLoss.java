package dev.rlhf.policy.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.rlhf.policy.model.TorchOps;

/**
 * The PPO objective over a minibatch's response tokens, as TRL's {@code PPOTrainer.loss} and OpenRLHF's
 * {@code PolicyLoss}/{@code ValueLoss}; every mean is over masked (real response) tokens of the whole minibatch.
 * A replica that computes one share of a split minibatch divides by the whole minibatch's token count, so the
 * shares' terms and gradients add up to the minibatch's.
 * <ul>
 *   <li>policy: {@code mean(max(-A r, -A clip(r, 1 - ε, 1 + ε)))} with {@code r = exp(log π - log π_old)};
 *   <li>value: {@code 0.5 mean(max((V - R)², (V_clip - R)²))} with
 *       {@code V_clip = V_old + clip(V - V_old, -ε_v, ε_v)};
 *   <li>total: {@code policy + valueCoef * value - entropyCoef * entropy}.
 * </ul>
 * The approximate KL to the rollout policy is TRL's {@code approxkl}, {@code 0.5 mean((log r)²)} (Schulman's
 * k2 estimator), not the k3 {@code mean(r - 1 - log r)}; both agree to second order in {@code log r}.
 *
 * @param clipRange ε
 * @param valueClipRange ε_v
 * @param valueCoef weight of the value loss
 * @param entropyCoef weight of the entropy bonus
 */
public record PpoLoss(double clipRange, double valueClipRange, double valueCoef, double entropyCoef) {

    /**
     * What the rollout fixed for a minibatch, all {@code [batch, responseLength]} float32.
     *
     * @param oldLogprobs log π_old
     * @param oldValues V_old
     * @param advantages (whitened) advantages
     * @param returns GAE returns
     * @param mask 1 for real response tokens
     * @param tokens what the means divide by: the real response tokens of the whole minibatch (at least 1)
     */
    public record Targets(
            NDArray oldLogprobs, NDArray oldValues, NDArray advantages, NDArray returns, NDArray mask, float tokens) {}

    /**
     * Scalars of one minibatch; {@code total} carries the gradient, the others are for reporting.
     *
     * @param clipFraction share of tokens whose policy term was clipped
     * @param valueClipFraction share of tokens whose value term was clipped
     */
    public record Terms(
            NDArray total,
            NDArray policyLoss,
            NDArray valueLoss,
            NDArray approxKl,
            NDArray clipFraction,
            NDArray valueClipFraction) {}

    public PpoLoss {
        if (!(clipRange > 0) || !(valueClipRange > 0)) {
            throw new IllegalArgumentException(
                    "clipRange and valueClipRange must be positive but were " + clipRange + ", " + valueClipRange);
        }
        if (!(valueCoef >= 0) || !(entropyCoef >= 0)) {
            throw new IllegalArgumentException(
                    "valueCoef and entropyCoef must not be negative but were " + valueCoef + ", " + entropyCoef);
        }
    }

    /** The loss of {@code settings}. */
    public static PpoLoss of(PpoSettings settings) {
        return new PpoLoss(settings.clipRange(), settings.valueClipRange(), settings.valueCoef(),
                settings.entropyCoef());
    }

    /**
     * The loss without an entropy bonus.
     *
     * @param logprobs {@code [batch, responseLength]} log π of the policy being trained
     * @param values {@code [batch, responseLength]} its value head
     * @throws IllegalStateException if this loss has an entropy bonus, which needs the entropy
     */
    public Terms compute(NDArray logprobs, NDArray values, Targets targets) {
        if (entropyCoef > 0) {
            throw new IllegalStateException("an entropy coefficient of " + entropyCoef + " needs the entropy");
        }
        return compute(logprobs, values, null, targets);
    }

    /**
     * @param logprobs {@code [batch, responseLength]} log π of the policy being trained
     * @param values {@code [batch, responseLength]} its value head
     * @param entropy {@code [batch, responseLength]} entropy of its distribution at each predicting position; only
     *     read with a positive {@code entropyCoef}
     */
    public Terms compute(NDArray logprobs, NDArray values, NDArray entropy, Targets targets) {
        NDArray mask = targets.mask();
        NDArray tokens = TorchOps.scalar(mask, targets.tokens());

        NDArray logRatio = logprobs.sub(targets.oldLogprobs());
        NDArray ratio = logRatio.exp();
        NDArray negAdvantages = targets.advantages().neg();
        NDArray unclipped = negAdvantages.mul(ratio);
        NDArray clipped = negAdvantages.mul(ratio.clip(1 - clipRange, 1 + clipRange));
        NDArray policyLoss = meanOver(unclipped.maximum(clipped), mask, tokens);

        NDArray valueClipped = targets.oldValues()
                .add(values.sub(targets.oldValues()).clip(-valueClipRange, valueClipRange));
        NDArray valueErrors = values.sub(targets.returns()).square();
        NDArray clippedErrors = valueClipped.sub(targets.returns()).square();
        NDArray valueLoss =
                meanOver(valueErrors.maximum(clippedErrors), mask, tokens).mul(TorchOps.scalar(mask, 0.5f));

        NDArray total = policyLoss.add(valueLoss.mul(TorchOps.scalar(mask, (float) valueCoef)));
        if (entropyCoef > 0) {
            total = total.sub(meanOver(entropy, mask, tokens).mul(TorchOps.scalar(mask, (float) entropyCoef)));
        }
        NDArray approxKl = meanOver(logRatio.stopGradient().square(), mask, tokens).mul(0.5f);
        NDArray clipFraction = meanOver(clipped.gt(unclipped).toType(DataType.FLOAT32, false), mask, tokens);
        NDArray valueClipFraction =
                meanOver(clippedErrors.gt(valueErrors).toType(DataType.FLOAT32, false), mask, tokens);
        return new Terms(total, policyLoss, valueLoss, approxKl, clipFraction, valueClipFraction);
    }

    private static NDArray meanOver(NDArray perToken, NDArray mask, NDArray tokens) {
        return perToken.mul(mask).sum().div(tokens);
    }
}
