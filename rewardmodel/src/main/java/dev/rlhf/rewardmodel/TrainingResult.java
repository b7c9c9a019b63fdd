package dev.rlhf.rewardmodel;

import java.util.List;

/**
 * The outcome of {@link RewardModelTrainer#fit}: the model ends with the weights of {@link #bestEpoch()}.
 *
 * @param epochs one report per epoch run, early-stopped ones excluded
 * @param bestEpoch 1-based epoch with the lowest held-out loss, whose weights the model now holds
 * @param trainPairs pairs trained on
 * @param heldOutPairs pairs held out
 */
public record TrainingResult(List<EpochReport> epochs, int bestEpoch, int trainPairs, int heldOutPairs) {
    public TrainingResult {
        epochs = List.copyOf(epochs);
    }

    /** The report of the best epoch. */
    public EpochReport best() {
        return epochs.get(bestEpoch - 1);
    }
}
