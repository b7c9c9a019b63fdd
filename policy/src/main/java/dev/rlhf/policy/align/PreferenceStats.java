package dev.rlhf.policy.align;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a pass of {@link PreferenceLearner} over preference pairs measured, each a mean over the pairs (for
 * training, as each minibatch saw them before its update), named as TRL's {@code DPOTrainer} logs them.
 *
 * @param objective which loss
 * @param loss mean per-pair loss
 * @param chosenReward mean implicit reward {@code β (π_c - ref_c)} of the chosen responses
 * @param rejectedReward mean implicit reward {@code β (π_r - ref_r)} of the rejected responses
 * @param margin mean of {@code chosenReward - rejectedReward}
 * @param accuracy share of pairs whose chosen reward is strictly greater
 * @param gradNorm mean pre-clipping gradient norm over the optimiser steps; NaN when no step was made
 * @param pairs pairs seen
 * @param steps optimiser steps made (0 for an evaluation)
 */
public record PreferenceStats(
        DpoSettings.Objective objective,
        double loss,
        double chosenReward,
        double rejectedReward,
        double margin,
        double accuracy,
        double gradNorm,
        int pairs,
        int steps) {

    /**
     * The statistics by name, prefixed {@code dpo/} or {@code ipo/}: {@code loss}, {@code reward_margin},
     * {@code reward_accuracy}, {@code chosen_reward}, {@code rejected_reward}, {@code pairs}, and {@code grad_norm}
     * and {@code steps} when optimiser steps were made.
     */
    public Map<String, Double> scalars() {
        String p = objective.prefix() + "/";
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put(p + "loss", loss);
        scalars.put(p + "reward_margin", margin);
        scalars.put(p + "reward_accuracy", accuracy);
        scalars.put(p + "chosen_reward", chosenReward);
        scalars.put(p + "rejected_reward", rejectedReward);
        scalars.put(p + "pairs", (double) pairs);
        if (steps > 0) {
            scalars.put(p + "grad_norm", gradNorm);
            scalars.put(p + "steps", (double) steps);
        }
        return scalars;
    }
}
