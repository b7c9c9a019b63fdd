package dev.rlhf.policy.align;

import com.typesafe.config.Config;
import dev.rlhf.policy.train.AdamW;
import java.util.Locale;
import java.util.Objects;

/**
 * Hyper-parameters of the offline preference learner ({@link PreferenceLearner}); read from {@code rlhf.dpo} by
 * {@link #dpo(Config)} or from {@code rlhf.ipo} by {@link #ipo(Config)} (see reference.conf for each default and
 * why).
 *
 * @param objective DPO or IPO
 * @param beta β of the loss ({@link DpoLoss#beta()}, {@link IpoLoss#beta()})
 * @param labelSmoothing ε of conservative DPO, in {@code [0, 0.5)}; always 0 for IPO
 * @param reduction how a response's per-token log-probs become its sequence log-prob; always
 *     {@link SequenceLogprobs.Reduction#SUM} for DPO
 * @param learningRate AdamW step size
 * @param weightDecay AdamW decoupled decay on matrices
 * @param maxGradNorm global gradient norm each minibatch's gradients are clipped to; 0 disables clipping
 * @param batchSize pairs per optimiser step
 * @param epochs passes over the training pairs a run makes (the caller's loop; one {@code trainEpoch} each)
 * @param forwardBatchSize pairs per forward pass of the reference log-probs and of {@code evaluate}
 * @param seed seeds the shuffling of each epoch (with the epoch's own seed) and the held-out split
 * @param heldOutFraction share of the pairs kept out of training for evaluation, in {@code [0, 1)}
 */
public record DpoSettings(
        Objective objective,
        double beta,
        double labelSmoothing,
        SequenceLogprobs.Reduction reduction,
        float learningRate,
        float weightDecay,
        float maxGradNorm,
        int batchSize,
        int epochs,
        int forwardBatchSize,
        long seed,
        double heldOutFraction) {

    /** Which preference loss the learner minimises. */
    public enum Objective {
        /** {@link DpoLoss}, on summed log-probs, with label smoothing. */
        DPO,
        /** {@link IpoLoss}, on summed or averaged log-probs. */
        IPO;

        /** The prefix of {@link PreferenceStats#scalars()}: {@code dpo} or {@code ipo}. */
        public String prefix() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @throws IllegalArgumentException if a value is out of range, or IPO has label smoothing, or DPO a reduction
     *     other than SUM
     */
    public DpoSettings {
        Objects.requireNonNull(objective, "objective");
        Objects.requireNonNull(reduction, "reduction");
        // validates β and ε as the loss will
        if (objective == Objective.DPO) {
            new DpoLoss(beta, labelSmoothing);
            if (reduction != SequenceLogprobs.Reduction.SUM) {
                throw new IllegalArgumentException("DPO is defined on summed log-probs, not " + reduction);
            }
        } else {
            new IpoLoss(beta, reduction);
            if (labelSmoothing != 0) {
                throw new IllegalArgumentException("IPO has no label smoothing but was given " + labelSmoothing);
            }
        }
        requirePositive(learningRate, "learningRate");
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weightDecay must not be negative but was " + weightDecay);
        }
        if (!(maxGradNorm >= 0)) {
            throw new IllegalArgumentException("maxGradNorm must not be negative but was " + maxGradNorm);
        }
        requirePositive(batchSize, "batchSize");
        requirePositive(epochs, "epochs");
        requirePositive(forwardBatchSize, "forwardBatchSize");
        if (!(heldOutFraction >= 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("heldOutFraction must be in [0, 1) but was " + heldOutFraction);
        }
    }

    /** Reads the {@code rlhf.dpo} block. */
    public static DpoSettings dpo(Config config) {
        Config c = config.getConfig("rlhf.dpo");
        return new DpoSettings(Objective.DPO, c.getDouble("beta"), c.getDouble("label-smoothing"),
                SequenceLogprobs.Reduction.SUM, (float) c.getDouble("learning-rate"),
                (float) c.getDouble("weight-decay"), (float) c.getDouble("max-grad-norm"), c.getInt("batch-size"),
                c.getInt("epochs"), c.getInt("forward-batch-size"), c.getLong("seed"),
                c.getDouble("held-out-fraction"));
    }

    /** Reads the {@code rlhf.ipo} block. */
    public static DpoSettings ipo(Config config) {
        Config c = config.getConfig("rlhf.ipo");
        String reduction = c.getString("reduction");
        SequenceLogprobs.Reduction parsed;
        try {
            parsed = SequenceLogprobs.Reduction.valueOf(reduction.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rlhf.ipo.reduction must be sum or mean but was " + reduction, e);
        }
        return new DpoSettings(Objective.IPO, c.getDouble("beta"), 0, parsed, (float) c.getDouble("learning-rate"),
                (float) c.getDouble("weight-decay"), (float) c.getDouble("max-grad-norm"), c.getInt("batch-size"),
                c.getInt("epochs"), c.getInt("forward-batch-size"), c.getLong("seed"),
                c.getDouble("held-out-fraction"));
    }

    /** The optimiser settings (AdamW's default betas and epsilon). */
    public AdamW.Settings optimizer() {
        AdamW.Settings defaults = AdamW.Settings.of(learningRate);
        return new AdamW.Settings(
                learningRate, defaults.beta1(), defaults.beta2(), defaults.epsilon(), weightDecay, maxGradNorm);
    }

    /** The loss on sequence log-probs already reduced as {@link #reduction()} says. */
    PreferenceTerms loss(PreferenceLogprobs logprobs) {
        return switch (objective) {
            case DPO -> new DpoLoss(beta, labelSmoothing).compute(logprobs);
            case IPO -> new IpoLoss(beta, reduction).compute(logprobs);
        };
    }

    private static void requirePositive(double value, String name) {
        if (!(value > 0)) {
            throw new IllegalArgumentException(name + " must be positive but was " + value);
        }
    }
}
