package dev.rlhf.policy.ppo;

/**
 * Chooses the coefficient β of the per-token KL penalty {@code -β (log π - log π_ref)}. Its only state is β,
 * which a checkpoint saves through {@link #coefficient()} and restores by building the controller with it.
 */
public sealed interface KlController permits FixedKlController, AdaptiveKlController {

    /** The β to shape the next batch's rewards with. */
    double coefficient();

    /**
     * Feeds back the KL to the reference observed on the last batch.
     *
     * @param observedKl mean over sequences of the summed per-token {@code log π - log π_ref}
     * @param steps sequences that batch held
     */
    void update(double observedKl, int steps);

    /** A controller of the configured kind starting at {@code coefficient} (the init coefficient, or a checkpoint's). */
    static KlController create(PpoSettings.KlSettings settings, double coefficient) {
        return switch (settings.control()) {
            case FIXED -> new FixedKlController(coefficient);
            case ADAPTIVE -> new AdaptiveKlController(coefficient, settings.setpoint(), settings.horizon());
        };
    }

    /** A fresh controller at the configured init coefficient. */
    static KlController create(PpoSettings.KlSettings settings) {
        return create(settings, settings.initCoefficient());
    }
}
