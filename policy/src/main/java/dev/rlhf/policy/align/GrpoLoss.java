package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import dev.rlhf.policy.model.TorchOps;
import java.util.Objects;

/**
 * GRPO's clipped surrogate with a per-token KL penalty (Shao et al. 2024, "DeepSeekMath", eq. 3), as TRL's
 * {@code GRPOTrainer.compute_loss}:
 * <pre>
 *   r_t = exp(log π_t - log π_old,t)
 *   ℓ_t = -min(r_t A, clip(r_t, 1 - ε_low, 1 + ε_high) A) + β k3_t
 * </pre>
 * with {@code A} the sequence's advantage on every one of its tokens ({@link GrpoAdvantages},
 * {@link RlooAdvantages}) and {@code k3_t} against the reference ({@link KlEstimators#k3}). {@code ε_high > ε_low}
 * is DAPO's clip-higher (Yu et al. 2025, "DAPO", §3.1: ε_low 0.2, ε_high 0.28), which leaves low-probability
 * tokens room to rise. Per-token losses become one number by {@link Aggregation}:
 * <ul>
 *   <li>{@link Aggregation#TOKEN_MEAN} (default): {@code Σ_{b,t} m ℓ / Σ_{b,t} m} over the whole batch, DAPO's
 *       token-level loss (§3.3) and TRL's {@code loss_type="dapo"}/{@code "bnpo"}: every token weighs the same,
 *       so long responses are not diluted;</li>
 *   <li>{@link Aggregation#SEQUENCE_MEAN}: {@code mean_b(Σ_t m ℓ / Σ_t m)}, the paper's {@code 1/G Σ_i 1/|o_i|}
 *       and TRL's {@code loss_type="grpo"}: every sequence weighs the same.</li>
 * </ul>
 * With one policy update per rollout pass {@code oldLogprobs = logprobs.stopGradient()}: the ratio is 1 and the
 * gradient of the surrogate is {@code -A ∇log π}, as in TRL with {@code num_iterations=1}. The same loss with
 * {@code klCoefficient = 0} serves RLOO, whose KL penalty is in the reward.
 *
 * <p>Padded positions of every per-token input are selected away before any arithmetic, so any garbage there,
 * NaN and infinity included, changes neither the loss nor the gradient (exactly 0 on padding).
 *
 * @param clipLow ε_low, in {@code (0, 1)}
 * @param clipHigh ε_high, positive; equal to ε_low for the symmetric PPO clip
 * @param klCoefficient β of the k3 penalty, not negative (DeepSeekMath 0.04; TRL's default was 0.04, is now 0)
 * @param aggregation how per-token losses are averaged
 */
public record GrpoLoss(double clipLow, double clipHigh, double klCoefficient, Aggregation aggregation) {

    /** How per-token losses become the batch's loss. */
    public enum Aggregation {
        /** The mean over all response tokens of the batch. */
        TOKEN_MEAN,
        /** The mean over sequences of each sequence's mean over its response tokens. */
        SEQUENCE_MEAN
    }

    /**
     * What the rollout fixed for a minibatch.
     *
     * @param oldLogprobs {@code [batch, time]} log π_old of the policy that sampled the tokens
     * @param refLogprobs {@code [batch, time]} log π_ref; may be null when {@code klCoefficient} is 0
     * @param advantages {@code [batch]} one advantage per sequence
     * @param mask {@code [batch, time]} float, non-zero (1) for response tokens
     */
    public record Inputs(NDArray oldLogprobs, NDArray refLogprobs, NDArray advantages, NDArray mask) {}

    /**
     * Scalars of one minibatch, in the manager of the log-probs; only {@code loss} carries a gradient.
     *
     * @param loss {@code policyLoss + β kl}
     * @param policyLoss the aggregated clipped surrogate
     * @param kl the aggregated k3, or null when no reference log-probs were given
     * @param clipFraction share of response tokens whose clipped term was the one taken (token mean)
     */
    public record Terms(NDArray loss, NDArray policyLoss, NDArray kl, NDArray clipFraction) {}

    /**
     * @throws IllegalArgumentException if ε_low is outside {@code (0, 1)}, ε_high is not positive and finite, or β
     *     is negative or not finite
     * @throws NullPointerException if {@code aggregation} is null
     */
    public GrpoLoss {
        if (!(clipLow > 0 && clipLow < 1)) {
            throw new IllegalArgumentException("clipLow ε_low must be in (0, 1) but was " + clipLow);
        }
        if (!(clipHigh > 0) || Double.isInfinite(clipHigh)) {
            throw new IllegalArgumentException("clipHigh ε_high must be positive and finite but was " + clipHigh);
        }
        if (!(klCoefficient >= 0) || Double.isInfinite(klCoefficient)) {
            throw new IllegalArgumentException(
                    "klCoefficient β must be finite and not negative but was " + klCoefficient);
        }
        Objects.requireNonNull(aggregation, "aggregation");
    }

    /** The symmetric clip {@code ε_low = ε_high = clipRange}, aggregated by token mean. */
    public GrpoLoss(double clipRange, double klCoefficient) {
        this(clipRange, clipRange, klCoefficient, Aggregation.TOKEN_MEAN);
    }

    /**
     * @param logprobs {@code [batch, time]} log π of the policy being trained
     * @throws IllegalArgumentException if the shapes disagree, or reference log-probs are missing while
     *     {@code klCoefficient} is positive
     */
    public Terms compute(NDArray logprobs, Inputs inputs) {
        NDArray mask = inputs.mask();
        ResponseMask.requireTokenShape("logprobs", logprobs, mask);
        ResponseMask.requireTokenShape("oldLogprobs", inputs.oldLogprobs(), mask);
        if (inputs.refLogprobs() != null) {
            ResponseMask.requireTokenShape("refLogprobs", inputs.refLogprobs(), mask);
        } else if (klCoefficient > 0) {
            throw new IllegalArgumentException(
                    "a klCoefficient of " + klCoefficient + " needs the reference log-probs");
        }
        NDArray advantages = inputs.advantages();
        if (advantages.getShape().dimension() != 1 || advantages.getShape().get(0) != mask.getShape().get(0)) {
            throw new IllegalArgumentException("advantages must be [batch] for batch " + mask.getShape().get(0)
                    + " but were " + advantages.getShape());
        }

        // padding becomes log π = log π_old = 0 first: ratio 1, finite everywhere, and a zero gradient there
        NDArray ratio = ResponseMask.select(logprobs, mask).sub(ResponseMask.select(inputs.oldLogprobs(), mask)).exp();
        NDArray perTokenAdvantages = advantages.toType(logprobs.getDataType(), false).expandDims(1);
        NDArray clippedRatio = ratio.maximum(TorchOps.scalar(ratio, (float) (1 - clipLow)))
                .minimum(TorchOps.scalar(ratio, (float) (1 + clipHigh)));
        NDArray unclipped = ratio.mul(perTokenAdvantages);
        NDArray clipped = clippedRatio.mul(perTokenAdvantages);
        NDArray policyLoss = aggregate(unclipped.minimum(clipped).neg(), mask);

        NDArray kl = inputs.refLogprobs() == null
                ? null
                : aggregate(KlEstimators.k3(logprobs, inputs.refLogprobs(), mask), mask);
        NDArray loss = klCoefficient > 0
                ? policyLoss.add(kl.mul(TorchOps.scalar(kl, (float) klCoefficient)))
                : policyLoss;
        NDArray clipFraction = ResponseMask.select(
                        clipped.lt(unclipped).toType(logprobs.getDataType(), false), mask)
                .sum()
                .div(ResponseMask.countAll(mask, logprobs));
        return new Terms(loss, policyLoss, kl == null ? null : kl.stopGradient(), clipFraction);
    }

    /** Per-token {@code [batch, time]} values (finite on padding) aggregated over response tokens. */
    NDArray aggregate(NDArray perToken, NDArray mask) {
        NDArray masked = ResponseMask.select(perToken, mask);
        return switch (aggregation) {
            case TOKEN_MEAN -> masked.sum().div(ResponseMask.countAll(mask, perToken));
            case SEQUENCE_MEAN -> masked.sum(new int[] {1}).div(ResponseMask.countPerRow(mask, perToken)).mean();
        };
    }
}
