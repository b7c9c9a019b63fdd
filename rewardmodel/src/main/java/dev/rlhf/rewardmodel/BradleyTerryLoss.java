package dev.rlhf.rewardmodel;

import ai.djl.ndarray.NDArray;
import dev.rlhf.policy.model.TorchOps;

/**
 * The Bradley–Terry preference loss: with {@code P(chosen > rejected) = sigmoid(r_chosen - r_rejected)}, the mean
 * over votes of {@code -log sigmoid(sign * (r_chosen - r_rejected) - margin)}, where a vote for {@code chosen} has
 * sign +1 and one for {@code rejected} -1. A positive margin (Llama 2's trick for judgments of stronger preference)
 * asks the model to separate the pair by at least that much in the vote's direction.
 */
public final class BradleyTerryLoss {
    private BradleyTerryLoss() {}

    /**
     * @param chosen {@code [pairs]} scores of the responses most votes preferred
     * @param rejected {@code [pairs]} scores of the others
     * @param votes {@code [pairs, votesPerPair]} sign, margin and weight (1 for a vote, 0 for padding) of each vote
     * @return the mean loss over votes, a scalar
     */
    public static NDArray loss(NDArray chosen, NDArray rejected, VoteTable.Arrays votes) {
        return perVote(chosen, rejected, votes).sum().div(votes.weights().sum());
    }

    /**
     * The loss summed over the votes of these pairs and divided by {@code votesInBatch}: a share of a batch split
     * across replicas, whose shares then add up to the batch's mean loss.
     */
    public static NDArray shareOfMean(NDArray chosen, NDArray rejected, VoteTable.Arrays votes, float votesInBatch) {
        return perVote(chosen, rejected, votes).sum().div(TorchOps.scalar(chosen, votesInBatch));
    }

    /** {@code [pairs, votesPerPair]} loss of each vote, 0 for padding. */
    private static NDArray perVote(NDArray chosen, NDArray rejected, VoteTable.Arrays votes) {
        NDArray z = directedDifference(chosen, rejected, votes).sub(votes.margins());
        // -log sigmoid(z) = softplus(-z) = max(-z, 0) + log(1 + exp(-|z|)), which never overflows
        NDArray perVote = z.neg().maximum(TorchOps.scalar(z, 0f)).add(z.abs().neg().exp().add(1f).log());
        return perVote.mul(votes.weights());
    }

    /** {@code [pairs, votesPerPair]}: the score difference as each vote sees it (positive = the vote's way). */
    static NDArray directedDifference(NDArray chosen, NDArray rejected, VoteTable.Arrays votes) {
        return chosen.sub(rejected).expandDims(1).mul(votes.signs());
    }
}
