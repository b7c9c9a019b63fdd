package dev.rlhf.policy.ppo;

/**
 * The proportional controller of Ziegler et al. (2019), as TRL's and OpenRLHF's {@code AdaptiveKLController}:
 * {@code error = clip(kl / target - 1, -0.2, 0.2)}, then {@code β *= 1 + error * steps / horizon}. β rises
 * while the policy drifts further from the reference than the target and falls while it stays closer.
 */
public final class AdaptiveKlController implements KlController {
    /** Bound on the proportional error, so one outlying batch moves β by at most 20 % of {@code steps/horizon}. */
    static final double MAX_ERROR = 0.2;

    private final double target;
    private final int horizon;
    private double coefficient;

    /**
     * @param coefficient the starting β (the init coefficient, or the one a checkpoint saved)
     * @param target the KL to the reference (nats per sequence) to steer towards
     * @param horizon sequences over which β may change by a factor of about e^0.2
     * @throws IllegalArgumentException if {@code coefficient} is negative, {@code target} or {@code horizon} not
     *     positive
     */
    public AdaptiveKlController(double coefficient, double target, int horizon) {
        if (!(coefficient >= 0) || Double.isInfinite(coefficient)) {
            throw new IllegalArgumentException("coefficient must be finite and not negative but was " + coefficient);
        }
        if (!(target > 0)) {
            throw new IllegalArgumentException("target must be positive but was " + target);
        }
        if (horizon <= 0) {
            throw new IllegalArgumentException("horizon must be positive but was " + horizon);
        }
        this.coefficient = coefficient;
        this.target = target;
        this.horizon = horizon;
    }

    @Override
    public double coefficient() {
        return coefficient;
    }

    @Override
    public void update(double observedKl, int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("steps must not be negative but was " + steps);
        }
        double error = Math.max(-MAX_ERROR, Math.min(MAX_ERROR, observedKl / target - 1));
        coefficient *= 1 + error * steps / horizon;
    }
}
