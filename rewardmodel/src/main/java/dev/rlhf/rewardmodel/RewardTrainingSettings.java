package dev.rlhf.rewardmodel;

import com.typesafe.config.Config;
import dev.rlhf.policy.train.AdamW;
import dev.rlhf.policy.train.LearnerReplicas;

/**
 * How {@link RewardModelTrainer} trains; read from {@code rlhf.reward-model} (see reference.conf).
 *
 * @param seed seeds the held-out split and the order of pairs in each epoch
 * @param learningRate AdamW step size (constant after a linear warm-up)
 * @param warmupSteps optimiser steps of linear warm-up
 * @param weightDecay AdamW's decoupled decay of matrices
 * @param maxGradNorm global gradient norm clipped to; 0 disables clipping
 * @param batchSize preference pairs per optimiser step (each step runs 2 × batchSize sequences)
 * @param maxEpochs most passes over the training pairs
 * @param patience epochs without a better held-out loss before training stops early
 * @param heldOutFraction share of the pairs kept out of training to measure loss and accuracy
 * @param marginPerStrength margin of the loss per strength step above 1: a pair of strength s asks for a score
 *     gap of {@code marginPerStrength * (s - 1)}; 0 gives the plain Bradley–Terry loss
 * @param scoreBatchSize sequences per forward pass when scoring without gradients
 * @param replicas data-parallel replicas each training step is split across ({@code rlhf.learner.replicas})
 */
public record RewardTrainingSettings(
        long seed,
        float learningRate,
        int warmupSteps,
        float weightDecay,
        float maxGradNorm,
        int batchSize,
        int maxEpochs,
        int patience,
        double heldOutFraction,
        float marginPerStrength,
        int scoreBatchSize,
        int replicas) {

    public RewardTrainingSettings {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learningRate must be positive but was " + learningRate);
        }
        requireNotNegative(warmupSteps, "warmupSteps");
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weightDecay must not be negative but was " + weightDecay);
        }
        if (!(maxGradNorm >= 0)) {
            throw new IllegalArgumentException("maxGradNorm must not be negative but was " + maxGradNorm);
        }
        requirePositive(batchSize, "batchSize");
        requirePositive(maxEpochs, "maxEpochs");
        requirePositive(patience, "patience");
        if (!(heldOutFraction > 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("heldOutFraction must be in (0, 1) but was " + heldOutFraction);
        }
        if (!(marginPerStrength >= 0)) {
            throw new IllegalArgumentException("marginPerStrength must not be negative but was " + marginPerStrength);
        }
        requirePositive(scoreBatchSize, "scoreBatchSize");
        requirePositive(replicas, "replicas");
    }

    /** Reads the {@code rlhf.reward-model} block and {@code rlhf.learner.replicas}. */
    public static RewardTrainingSettings from(Config config) {
        Config c = config.getConfig("rlhf.reward-model");
        return new RewardTrainingSettings(
                c.getLong("seed"),
                (float) c.getDouble("learning-rate"),
                c.getInt("warmup-steps"),
                (float) c.getDouble("weight-decay"),
                (float) c.getDouble("max-grad-norm"),
                c.getInt("batch-size"),
                c.getInt("max-epochs"),
                c.getInt("patience"),
                c.getDouble("held-out-fraction"),
                (float) c.getDouble("margin-per-strength"),
                c.getInt("score-batch-size"),
                LearnerReplicas.from(config));
    }

    /** The optimiser settings these imply. */
    public AdamW.Settings optimizer() {
        return new AdamW.Settings(learningRate, 0.9f, 0.999f, 1e-8f, weightDecay, maxGradNorm);
    }

    /** The margin the loss asks of a pair of this strength. */
    public float margin(int strength) {
        return marginPerStrength * (strength - 1);
    }

    private static void requirePositive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive but was " + value);
        }
    }

    private static void requireNotNegative(int value, String name) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must not be negative but was " + value);
        }
    }
}
