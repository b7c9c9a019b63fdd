package dev.rlhf.rewardmodel;

import java.util.List;

/**
 * One training pair for the reward model, as token sequences (prompt + response each), with every ordered judgment
 * of it. Several annotators' judgments of one comparison share the pair: their Bradley–Terry terms all depend on the
 * same score difference, so one forward pass serves them all and the loss is the same as training on each
 * judgment alone.
 *
 * @param chosen tokens of the prompt followed by the response most votes preferred
 * @param rejected tokens of the prompt followed by the other response
 * @param votes the ordered judgments of the pair, at least one
 */
public record PreferenceExample(int[] chosen, int[] rejected, List<Vote> votes) {

    /**
     * One annotator's ordered judgment of the pair.
     *
     * @param forChosen whether it preferred {@code chosen}
     * @param strength how strongly, 1 (slightly) to 3 (clearly)
     */
    public record Vote(boolean forChosen, int strength) {
        public Vote {
            if (strength < 1 || strength > 3) {
                throw new IllegalArgumentException("strength must be in 1..3 but was " + strength);
            }
        }
    }

    public PreferenceExample {
        if (chosen.length == 0 || rejected.length == 0) {
            throw new IllegalArgumentException("chosen and rejected must not be empty");
        }
        if (votes.isEmpty()) {
            throw new IllegalArgumentException("a pair needs at least one vote");
        }
        votes = List.copyOf(votes);
    }

    /** A pair judged once, for {@code chosen}. */
    public static PreferenceExample single(int[] chosen, int[] rejected, int strength) {
        return new PreferenceExample(chosen, rejected, List.of(new Vote(true, strength)));
    }
}
