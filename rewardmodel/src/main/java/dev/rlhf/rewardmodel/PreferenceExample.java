package dev.rlhf.rewardmodel;

/**
 * One training pair for the reward model, as token sequences (prompt + response each).
 *
 * @param chosen tokens of the prompt followed by the preferred response
 * @param rejected tokens of the prompt followed by the other response
 * @param strength how strongly the annotator preferred it, 1 (slightly) to 3 (clearly)
 */
public record PreferenceExample(int[] chosen, int[] rejected, int strength) {
    public PreferenceExample {
        if (chosen.length == 0 || rejected.length == 0) {
            throw new IllegalArgumentException("chosen and rejected must not be empty");
        }
        if (strength < 1 || strength > 3) {
            throw new IllegalArgumentException("strength must be in 1..3 but was " + strength);
        }
    }
}
