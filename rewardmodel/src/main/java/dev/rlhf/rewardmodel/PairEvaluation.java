package dev.rlhf.rewardmodel;

/**
 * Loss and accuracy of a reward model on preference pairs.
 *
 * @param loss mean Bradley–Terry loss over the pairs' votes (margins included)
 * @param accuracy share of votes whose preferred response scores strictly above the other
 * @param pairs number of pairs
 */
public record PairEvaluation(double loss, double accuracy, int pairs) {}
