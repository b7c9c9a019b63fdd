package dev.rlhf.rewardmodel;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.PromptResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToDoubleFunction;

/**
 * How often a reward model orders two responses as the hidden gold preference does: the accuracy against gold
 * of an experiment with simulated annotators.
 *
 * @param accuracy share of the counted comparisons where the model's score order matches gold's (equal model
 *     scores count as a miss)
 * @param pairs comparisons counted: those whose two gold scores differ
 * @param goldTies comparisons left out because gold scores both responses alike
 */
public record GoldAgreement(double accuracy, int pairs, int goldTies) {

    /** Scores both sides of every comparison with {@code scorer} and compares the order with {@code gold}. */
    public static GoldAgreement measure(RewardScorer scorer, List<Comparison> comparisons, GoldScore gold) {
        List<PromptResponse> sides = new ArrayList<>(2 * comparisons.size());
        for (Comparison c : comparisons) {
            sides.add(new PromptResponse(c.prompt(), c.responseA()));
            sides.add(new PromptResponse(c.prompt(), c.responseB()));
        }
        float[] scores = scorer.rawScores(sides);
        return count(comparisons, gold, i -> scores[2 * i] - scores[2 * i + 1]);
    }

    /**
     * Counts the comparisons whose {@code preferenceForA} (positive: A preferred, negative: B, zero: no order, a miss)
     * orders them as gold does; those gold scores alike are left out.
     *
     * @param preferenceForA the judge's preference of comparison {@code i}
     */
    public static GoldAgreement count(List<Comparison> comparisons, GoldScore gold,
            IntToDoubleFunction preferenceForA) {
        int counted = 0;
        int agreed = 0;
        for (int i = 0; i < comparisons.size(); i++) {
            Comparison c = comparisons.get(i);
            double goldDelta = gold.score(c.prompt(), c.responseA()) - gold.score(c.prompt(), c.responseB());
            if (goldDelta == 0) {
                continue;
            }
            counted++;
            if (Math.signum(preferenceForA.applyAsDouble(i)) == Math.signum(goldDelta)) {
                agreed++;
            }
        }
        return new GoldAgreement(counted == 0 ? Double.NaN : (double) agreed / counted, counted,
                comparisons.size() - counted);
    }
}
