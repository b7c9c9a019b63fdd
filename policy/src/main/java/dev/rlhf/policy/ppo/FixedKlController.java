package dev.rlhf.policy.ppo;

/** A constant β: feedback is ignored. */
public final class FixedKlController implements KlController {
    private final double coefficient;

    /** @throws IllegalArgumentException if {@code coefficient} is negative or not finite */
    public FixedKlController(double coefficient) {
        if (!(coefficient >= 0) || Double.isInfinite(coefficient)) {
            throw new IllegalArgumentException("coefficient must be finite and not negative but was " + coefficient);
        }
        this.coefficient = coefficient;
    }

    @Override
    public double coefficient() {
        return coefficient;
    }

    @Override
    public void update(double observedKl, int steps) {
        // a fixed coefficient has nothing to learn from the feedback
    }
}
