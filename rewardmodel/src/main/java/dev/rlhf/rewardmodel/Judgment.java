package dev.rlhf.rewardmodel;

import java.util.Objects;

/**
 * One annotator's judgment of a comparison.
 *
 * @param annotatorId who judged
 * @param verdict which response won, or tie, or skip
 * @param strength for a winner, how clearly it won: 1 (slightly), 2 (better), 3 (much better); 0 for a tie or skip
 */
public record Judgment(String annotatorId, Verdict verdict, int strength) {
    public Judgment {
        Objects.requireNonNull(annotatorId, "annotatorId");
        Objects.requireNonNull(verdict, "verdict");
        boolean ordered = verdict == Verdict.A || verdict == Verdict.B;
        if (ordered && (strength < 1 || strength > 3)) {
            throw new IllegalArgumentException("strength of a " + verdict + " verdict must be in 1..3 but was "
                    + strength);
        }
        if (!ordered && strength != 0) {
            throw new IllegalArgumentException("strength of a " + verdict + " verdict must be 0 but was " + strength);
        }
    }
}
