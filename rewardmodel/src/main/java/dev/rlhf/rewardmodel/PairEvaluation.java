package dev.rlhf.rewardmodel;

/**
 * Loss and accuracy of a reward model on preference pairs.
 *
 * @param loss mean Bradley–Terry loss (margins included)
 * @param accuracy share of pairs whose chosen response scores strictly above the rejected one
 * @param pairs number of pairs
 */
public record PairEvaluation(double loss, double accuracy, int pairs) {}
