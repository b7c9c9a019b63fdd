package dev.rlhf.policy.align;

import com.typesafe.config.Config;
import dev.rlhf.policy.train.AdamW;
import java.util.Locale;
import java.util.Objects;

/**
 * Hyper-parameters of {@link GroupPolicyLearner}, read from {@code rlhf.grpo} ({@link #grpo}) or {@code rlhf.rloo}
 * ({@link #rloo}); see reference.conf for each default and why.
 *
 * @param algorithm GRPO or RLOO
 * @param groupSize completions per prompt, side by side in a batch (G of GRPO, k of RLOO); at least 2
 * @param learningRate AdamW step size
 * @param weightDecay AdamW decoupled decay on matrices
 * @param maxGradNorm global gradient norm each minibatch's gradients are clipped to; 0 disables clipping
 * @param epochs passes over each batch (μ of GRPO)
 * @param minibatches optimiser steps per pass; the batch is shuffled by sequence and split into this many
 * @param forwardBatchSize sequences per forward pass when computing the rollout's old and reference log-probs
 * @param seed seeds the minibatch shuffling
 * @param beta β of the k3 penalty in the loss (GRPO); 0 for RLOO
 * @param rewardKlCoefficient coefficient of the summed k1 subtracted from each score (RLOO); 0 for GRPO
 * @param clipLow ε_low of the clipped surrogate
 * @param clipHigh ε_high of the clipped surrogate (DAPO's clip-higher when above {@code clipLow})
 * @param epsilon ε added to the std of GRPO's advantages (unused by RLOO and by scaling NONE)
 * @param scaling what GRPO's centred rewards are divided by (unused by RLOO)
 * @param aggregation how per-token losses become a minibatch's loss
 */
public record GroupSettings(
        Algorithm algorithm,
        int groupSize,
        float learningRate,
        float weightDecay,
        float maxGradNorm,
        int epochs,
        int minibatches,
        int forwardBatchSize,
        long seed,
        double beta,
        double rewardKlCoefficient,
        double clipLow,
        double clipHigh,
        double epsilon,
        GrpoAdvantages.Scaling scaling,
        GrpoLoss.Aggregation aggregation) {

    /** Which group-baseline algorithm. */
    public enum Algorithm {
        /** Group-relative advantages, k3 KL penalty in the loss (DeepSeekMath). */
        GRPO,
        /** Leave-one-out advantages over KL-shaped rewards (Ahmadian et al. 2024). */
        RLOO;

        /** The metric prefix, {@code grpo} or {@code rloo}. */
        public String metricPrefix() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @throws IllegalArgumentException naming the first setting out of range */
    public GroupSettings {
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(scaling, "scaling");
        Objects.requireNonNull(aggregation, "aggregation");
        if (groupSize < 2) {
            throw new IllegalArgumentException("group-size must be at least 2 (a group baseline needs the other "
                    + "completions of the prompt) but was " + groupSize);
        }
        requirePositive(learningRate, "learning-rate");
        requireNonNegative(weightDecay, "weight-decay");
        requireNonNegative(maxGradNorm, "max-grad-norm");
        requirePositive(epochs, "epochs");
        requirePositive(minibatches, "minibatches");
        requirePositive(forwardBatchSize, "forward-batch-size");
        requireNonNegative(beta, "beta");
        requireNonNegative(rewardKlCoefficient, "kl-coefficient");
        if (algorithm == Algorithm.RLOO && beta != 0) {
            throw new IllegalArgumentException("RLOO puts its KL penalty in the reward; beta must be 0 but was " + beta);
        }
        if (algorithm == Algorithm.GRPO && rewardKlCoefficient != 0) {
            throw new IllegalArgumentException(
                    "GRPO puts its KL penalty in the loss; the reward's kl-coefficient must be 0 but was "
                            + rewardKlCoefficient);
        }
        // the loss checks its own ranges; fail here, when the settings are read, rather than at the first update
        new GrpoLoss(clipLow, clipHigh, beta, aggregation);
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw new IllegalArgumentException("epsilon must be positive and finite but was " + epsilon);
        }
    }

    /** Reads the {@code rlhf.grpo} block. */
    public static GroupSettings grpo(Config config) {
        Config c = config.getConfig("rlhf.grpo");
        double clipLow = c.getDouble("clip-low");
        return new GroupSettings(Algorithm.GRPO, c.getInt("group-size"), (float) c.getDouble("learning-rate"),
                (float) c.getDouble("weight-decay"), (float) c.getDouble("max-grad-norm"), c.getInt("epochs"),
                c.getInt("minibatches"), c.getInt("forward-batch-size"), c.getLong("seed"), c.getDouble("beta"), 0,
                clipLow, c.hasPath("clip-high") ? c.getDouble("clip-high") : clipLow, c.getDouble("epsilon"),
                parse(GrpoAdvantages.Scaling.class, c.getString("scaling"), "rlhf.grpo.scaling"),
                parse(GrpoLoss.Aggregation.class, c.getString("loss-aggregation"), "rlhf.grpo.loss-aggregation"));
    }

    /** Reads the {@code rlhf.rloo} block. */
    public static GroupSettings rloo(Config config) {
        Config c = config.getConfig("rlhf.rloo");
        double clip = c.getDouble("clip");
        return new GroupSettings(Algorithm.RLOO, c.getInt("group-size"), (float) c.getDouble("learning-rate"),
                (float) c.getDouble("weight-decay"), (float) c.getDouble("max-grad-norm"), c.getInt("epochs"),
                c.getInt("minibatches"), c.getInt("forward-batch-size"), c.getLong("seed"), 0,
                c.getDouble("kl-coefficient"), clip, clip, GrpoAdvantages.DEFAULT_EPSILON,
                GrpoAdvantages.Scaling.NONE,
                parse(GrpoLoss.Aggregation.class, c.getString("loss-aggregation"), "rlhf.rloo.loss-aggregation"));
    }

    /** The loss of every minibatch. */
    public GrpoLoss loss() {
        return new GrpoLoss(clipLow, clipHigh, beta, aggregation);
    }

    /** The optimiser settings (AdamW's default betas and epsilon). */
    public AdamW.Settings optimizer() {
        AdamW.Settings defaults = AdamW.Settings.of(learningRate);
        return new AdamW.Settings(
                learningRate, defaults.beta1(), defaults.beta2(), defaults.epsilon(), weightDecay, maxGradNorm);
    }

    /** The same settings with another group size (for a rollout laid out differently). */
    public GroupSettings withGroupSize(int size) {
        return new GroupSettings(algorithm, size, learningRate, weightDecay, maxGradNorm, epochs, minibatches,
                forwardBatchSize, seed, beta, rewardKlCoefficient, clipLow, clipHigh, epsilon, scaling, aggregation);
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String value, String key) {
        String constant = value.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(constant)) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            allowed.append(allowed.length() == 0 ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        throw new IllegalArgumentException(key + " must be one of " + allowed + " but was " + value);
    }

    private static void requirePositive(double value, String name) {
        if (!(value > 0)) {
            throw new IllegalArgumentException(name + " must be positive but was " + value);
        }
    }

    private static void requireNonNegative(double value, String name) {
        if (!(value >= 0)) {
            throw new IllegalArgumentException(name + " must not be negative but was " + value);
        }
    }
}
