package dev.rlhf.actors;

import java.util.Arrays;
import java.util.Locale;

/**
 * Who judges an experiment's comparison pairs ({@code rlhf.annotators.mode}). Unless the run starts from a given
 * reward model ({@code rlhf.experiment.reward-model}), reward model v1 learns from the simulated panel's judgments
 * of the initial comparisons, since a run has no other way to start; the modes differ in who judges each
 * iteration's pairs.
 */
public enum AnnotatorsMode {
    /** Nobody: the run's reward model (a given one) stays fixed and no pairs are sent for judgment. */
    NONE,
    /** The simulated panel judges every batch as it arrives; runs of one seed are reproducible. */
    SIMULATED,
    /**
     * Each iteration's pairs go to the labeling queue for people only; the reward model retrains once enough of
     * their judgments have arrived, checked at every iteration boundary.
     */
    HUMAN,
    /** The simulated panel judges every batch and each task also waits for people; retraining counts both. */
    MIXED;

    /** The key's value: {@code none}, {@code simulated}, {@code human} or {@code mixed}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether people judge the iteration pairs (and the coordinator looks for their judgments at boundaries). */
    public boolean people() {
        return this == HUMAN || this == MIXED;
    }

    /** Whether the simulated panel judges anything: it needs a task with a gold score. */
    public boolean panel() {
        return this == SIMULATED || this == MIXED;
    }

    /**
     * The mode a key's value names.
     *
     * @throws IllegalArgumentException naming the key and the values allowed
     */
    public static AnnotatorsMode parse(String value) {
        for (AnnotatorsMode mode : values()) {
            if (mode.key().equals(value)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("rlhf.annotators.mode must be one of "
                + Arrays.stream(values()).map(AnnotatorsMode::key).toList() + " but was \"" + value + "\"");
    }
}
