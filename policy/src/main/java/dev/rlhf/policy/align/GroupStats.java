package dev.rlhf.policy.align;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one {@link GroupPolicyLearner#learn} did. Loss, clip fraction, gradient norm and the GRPO k3 are means over
 * the optimiser steps that ran; the reward and KL-to-reference figures describe the rollout batch itself.
 *
 * @param algorithm GRPO or RLOO
 * @param policyLoss the aggregated clipped surrogate (without the β k3 term)
 * @param kl GRPO: the k3 estimate of KL(π || π_ref) per token, aggregated as the loss is, under the policy being
 *     trained; RLOO: the k1 estimate the rewards were shaped with, the mean over sequences of the summed
 *     {@code log π_old - log π_ref} (equal to {@code klToReference})
 * @param klToReference mean over sequences of the summed {@code log π_old - log π_ref}: the quantity
 *     {@code PpoStats#klToReference} reports, so runs of every algorithm compare on one KL budget
 * @param klCoefficient GRPO: β of the k3 term in the loss; RLOO: the coefficient of k1 in the reward
 * @param clipFraction share of response tokens whose clipped term was the one taken
 * @param gradNorm global gradient norm before clipping
 * @param meanReward mean reward-model score of the batch (before any KL shaping)
 * @param groupRewardStd mean over groups of the sample std of the scores within a group
 * @param zeroStdGroupFraction share of groups whose scores are all equal: their advantages are 0, so they teach
 *     nothing (TRL's {@code frac_reward_zero_std})
 * @param baselineMean RLOO: mean leave-one-out baseline over the KL-shaped rewards; GRPO: NaN (its baseline, the
 *     group mean, averages to {@code meanReward})
 * @param learningRate the AdamW step size of the update
 * @param minibatchesRun optimiser steps taken
 */
public record GroupStats(
        GroupSettings.Algorithm algorithm,
        double policyLoss,
        double kl,
        double klToReference,
        double klCoefficient,
        double clipFraction,
        double gradNorm,
        double meanReward,
        double groupRewardStd,
        double zeroStdGroupFraction,
        double baselineMean,
        double learningRate,
        int minibatchesRun) {

    /**
     * The statistics under metric names: {@code policy/*} and {@code kl/*} shared with the other learners, the rest
     * under {@code grpo/} or {@code rloo/}.
     */
    public Map<String, Double> scalars() {
        String prefix = algorithm.metricPrefix() + "/";
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("policy/loss", policyLoss);
        scalars.put("policy/clip_fraction", clipFraction);
        scalars.put("policy/grad_norm", gradNorm);
        scalars.put("policy/learning_rate", learningRate);
        scalars.put("kl/to_reference", klToReference);
        scalars.put("kl/coefficient", klCoefficient);
        scalars.put(prefix + (algorithm == GroupSettings.Algorithm.GRPO ? "kl_k3" : "kl_k1"), kl);
        scalars.put(prefix + "reward_mean", meanReward);
        scalars.put(prefix + "group_reward_std", groupRewardStd);
        scalars.put(prefix + "frac_reward_zero_std", zeroStdGroupFraction);
        if (algorithm == GroupSettings.Algorithm.RLOO) {
            scalars.put(prefix + "baseline_mean", baselineMean);
        }
        scalars.put(prefix + "minibatches", (double) minibatchesRun);
        return scalars;
    }
}
