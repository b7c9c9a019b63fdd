package dev.rlhf.rewardmodel;

import java.util.Objects;

/**
 * A comparison with its judgment, numbered in the order the preference stream received it; a reward model
 * records the highest number it was trained on.
 *
 * @param sequence position in the preference stream, from 0
 * @param comparison what was judged
 * @param judgment the verdict
 */
public record JudgedComparison(long sequence, Comparison comparison, Judgment judgment) {
    public JudgedComparison {
        if (sequence < 0) {
            throw new IllegalArgumentException("sequence must not be negative but was " + sequence);
        }
        Objects.requireNonNull(comparison, "comparison");
        Objects.requireNonNull(judgment, "judgment");
    }
}
