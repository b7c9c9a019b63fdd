package dev.rlhf.rewardmodel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/** Lays the votes of a batch of pairs out as {@code [pairs, most votes of a pair]} arrays for the loss. */
public final class VoteTable {
    private VoteTable() {}

    /**
     * @param signs +1 for a vote for {@code chosen}, -1 for one for {@code rejected}, 0 for padding
     * @param margins the margin each vote asks for
     * @param weights 1 for a vote, 0 for padding
     */
    public record Arrays(NDArray signs, NDArray margins, NDArray weights) {}

    /** The votes of {@code pairs}, with margins from {@code settings}, in {@code manager}. */
    public static Arrays of(List<PreferenceExample> pairs, RewardTrainingSettings settings, NDManager manager) {
        int width = pairs.stream().mapToInt(p -> p.votes().size()).max().orElse(1);
        float[] signs = new float[pairs.size() * width];
        float[] margins = new float[signs.length];
        float[] weights = new float[signs.length];
        for (int p = 0; p < pairs.size(); p++) {
            List<PreferenceExample.Vote> votes = pairs.get(p).votes();
            for (int v = 0; v < votes.size(); v++) {
                int at = p * width + v;
                signs[at] = votes.get(v).forChosen() ? 1 : -1;
                margins[at] = settings.margin(votes.get(v).strength());
                weights[at] = 1;
            }
        }
        Shape shape = new Shape(pairs.size(), width);
        return new Arrays(manager.create(signs, shape), manager.create(margins, shape), manager.create(weights, shape));
    }
}
