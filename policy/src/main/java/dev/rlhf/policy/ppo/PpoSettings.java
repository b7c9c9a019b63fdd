package dev.rlhf.policy.ppo;

import com.typesafe.config.Config;
import dev.rlhf.policy.train.AdamW;
import java.util.Locale;

/**
 * Hyper-parameters of one PPO update; read from {@code rlhf.ppo} (see reference.conf for each default and why).
 *
 * @param learningRate AdamW step size
 * @param weightDecay AdamW decoupled decay on matrices
 * @param maxGradNorm global gradient norm each minibatch's gradients are clipped to; 0 disables clipping
 * @param epochs passes over the rollout batch
 * @param minibatches minibatches each pass splits the (shuffled) batch into
 * @param clipRange ε of the clipped surrogate: the ratio counts only inside {@code [1 - ε, 1 + ε]}
 * @param valueClipRange how far a new value may move from the rollout's value before the loss stops rewarding it
 * @param valueCoef weight of the value loss in the total loss
 * @param entropyCoef weight of the entropy bonus (subtracted from the loss); 0 leaves entropy a statistic only
 * @param gamma discount of GAE
 * @param lambda λ of GAE
 * @param whitenAdvantages whether advantages are whitened over the batch's response tokens
 * @param shiftAdvantageMean whether whitening also removes the mean (TRL's {@code shift_mean})
 * @param earlyStopApproxKl stop the remaining epochs once an epoch's mean approximate KL exceeds this; 0 never
 * @param scoreClip reward-model scores are clipped to {@code [-scoreClip, scoreClip]}; 0 disables clipping
 * @param whitenScores whether scores are standardised over the batch before shaping
 * @param forwardBatchSize sequences per forward pass when scoring a rollout (old and reference log-probs, values)
 * @param seed seeds the minibatch shuffling
 * @param kl the KL penalty's controller
 */
public record PpoSettings(
        float learningRate,
        float weightDecay,
        float maxGradNorm,
        int epochs,
        int minibatches,
        double clipRange,
        double valueClipRange,
        double valueCoef,
        double entropyCoef,
        double gamma,
        double lambda,
        boolean whitenAdvantages,
        boolean shiftAdvantageMean,
        double earlyStopApproxKl,
        double scoreClip,
        boolean whitenScores,
        int forwardBatchSize,
        long seed,
        KlSettings kl) {

    /** How β is chosen. */
    public enum KlControl { FIXED, ADAPTIVE }

    /**
     * @param control fixed or adaptive β
     * @param initCoefficient β of the first batch
     * @param target the KL to the reference (nats per sequence) the tuned policy should stay within
     * @param setpointFraction the share of {@code target} the adaptive controller steers towards, in (0, 1]
     * @param horizon sequences over which the adaptive controller may change β by about e^0.2
     */
    public record KlSettings(KlControl control, double initCoefficient, double target, double setpointFraction,
            int horizon) {
        public KlSettings {
            if (!(setpointFraction > 0 && setpointFraction <= 1)) {
                throw new IllegalArgumentException("setpointFraction must be in (0, 1] but was " + setpointFraction);
            }
            if (control == null) {
                throw new IllegalArgumentException("control must not be null");
            }
            requireNonNegative(initCoefficient, "initCoefficient");
            requirePositive(target, "target");
            requirePositive(horizon, "horizon");
        }

        /** The KL the adaptive controller steers towards. */
        public double setpoint() {
            return target * setpointFraction;
        }
    }

    public PpoSettings {
        requirePositive(learningRate, "learningRate");
        requireNonNegative(weightDecay, "weightDecay");
        requireNonNegative(maxGradNorm, "maxGradNorm");
        requirePositive(epochs, "epochs");
        requirePositive(minibatches, "minibatches");
        requirePositive(clipRange, "clipRange");
        requirePositive(valueClipRange, "valueClipRange");
        requireNonNegative(valueCoef, "valueCoef");
        requireNonNegative(entropyCoef, "entropyCoef");
        if (!(gamma >= 0 && gamma <= 1)) {
            throw new IllegalArgumentException("gamma must be in [0, 1] but was " + gamma);
        }
        if (!(lambda >= 0 && lambda <= 1)) {
            throw new IllegalArgumentException("lambda must be in [0, 1] but was " + lambda);
        }
        requireNonNegative(earlyStopApproxKl, "earlyStopApproxKl");
        requireNonNegative(scoreClip, "scoreClip");
        requirePositive(forwardBatchSize, "forwardBatchSize");
        if (kl == null) {
            throw new IllegalArgumentException("kl must not be null");
        }
    }

    /** Reads the {@code rlhf.ppo} block. */
    public static PpoSettings from(Config config) {
        Config c = config.getConfig("rlhf.ppo");
        Config k = c.getConfig("kl");
        return new PpoSettings(
                (float) c.getDouble("learning-rate"),
                (float) c.getDouble("weight-decay"),
                (float) c.getDouble("max-grad-norm"),
                c.getInt("epochs"),
                c.getInt("minibatches"),
                c.getDouble("cliprange"),
                c.getDouble("cliprange-value"),
                c.getDouble("value-coef"),
                c.getDouble("entropy-coef"),
                c.getDouble("gamma"),
                c.getDouble("lambda"),
                c.getBoolean("whiten-advantages"),
                c.getBoolean("shift-advantage-mean"),
                c.getDouble("early-stop-approx-kl"),
                c.getDouble("score-clip"),
                c.getBoolean("whiten-scores"),
                c.getInt("forward-batch-size"),
                c.getLong("seed"),
                new KlSettings(
                        parseControl(k.getString("control")),
                        k.getDouble("init-coef"),
                        k.getDouble("target"),
                        k.getDouble("setpoint-fraction"),
                        k.getInt("horizon")));
    }

    /** The optimiser settings (AdamW's default betas and epsilon). */
    public AdamW.Settings optimizer() {
        AdamW.Settings defaults = AdamW.Settings.of(learningRate);
        return new AdamW.Settings(
                learningRate, defaults.beta1(), defaults.beta2(), defaults.epsilon(), weightDecay, maxGradNorm);
    }

    private static KlControl parseControl(String value) {
        try {
            return KlControl.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "rlhf.ppo.kl.control must be fixed or adaptive but was " + value, e);
        }
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
