package dev.rlhf.rewardmodel.annotators;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.GoldAgreement;
import dev.rlhf.rewardmodel.Judgment;
import dev.rlhf.rewardmodel.Verdict;
import java.util.List;

/**
 * The ceiling of a reward model learnt from a panel: how often the majority of the panel's members orders a
 * comparison as gold does, on the held-out comparisons the reward model's accuracy against gold is measured on
 * (counted the same way: comparisons gold scores alike are left out, and a tied vote counts as a miss, as equal
 * model scores do). The gap between the two is what the reward model loses beyond the label noise.
 */
public final class PanelMajority {
    private PanelMajority() {}

    /**
     * Every member judges every comparison once, with draws keyed by the comparison's index (so the figure does not
     * depend on, or disturb, any other judgment's stream); ties and skips abstain.
     */
    public static GoldAgreement accuracyAgainstGold(SimulatedAnnotatorPanel panel, List<Comparison> comparisons,
            GoldScore gold) {
        return GoldAgreement.count(comparisons, gold, i -> {
            int votesForA = 0;
            for (SimulatedAnnotator member : panel.annotators()) {
                Judgment judgment = member.judge(comparisons.get(i), "ceiling-" + i);
                votesForA += judgment.verdict() == Verdict.A ? 1 : judgment.verdict() == Verdict.B ? -1 : 0;
            }
            return votesForA;
        });
    }
}
