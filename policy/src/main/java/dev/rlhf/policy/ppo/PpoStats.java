package dev.rlhf.policy.ppo;

/**
 * What one {@link PpoUpdater#update} did. Loss terms, approximate KL, clip fractions and gradient norm are means
 * over the minibatches that ran; entropy, the KL to the reference and the score describe the rollout batch itself.
 *
 * @param policyLoss clipped surrogate loss
 * @param valueLoss clipped value loss (before {@code valueCoef})
 * @param entropy mean entropy (nats) of the rollout policy π_old over response positions
 * @param approxKl {@code 0.5 mean((log π - log π_old)²)} per token
 * @param clipFraction share of response tokens whose policy ratio was clipped
 * @param valueClipFraction share of response tokens whose value was clipped
 * @param gradNorm global gradient norm before clipping
 * @param klToReference mean over sequences of the summed {@code log π_old - log π_ref}
 * @param klCoefficient β the rewards were shaped with
 * @param meanScore mean reward-model score of the batch (before any whitening or clipping)
 * @param epochsRun epochs completed (fewer than configured after an early stop)
 * @param minibatchesRun optimiser steps taken
 */
public record PpoStats(
        double policyLoss,
        double valueLoss,
        double entropy,
        double approxKl,
        double clipFraction,
        double valueClipFraction,
        double gradNorm,
        double klToReference,
        double klCoefficient,
        double meanScore,
        int epochsRun,
        int minibatchesRun) {}
