package dev.rlhf.rewardmodel.annotators;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.Judgment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A configurable set of {@link SimulatedAnnotator}s; each comparison goes to one of them drawn uniformly. The
 * panel is deterministic: the same settings and the same comparisons in the same order give the same judgments.
 * One panel is used from one thread at a time.
 */
public final class SimulatedAnnotatorPanel {
    private final List<SimulatedAnnotator> annotators;
    private final SplittableRandom assignment;

    public SimulatedAnnotatorPanel(AnnotatorPanelSettings settings) {
        SplittableRandom seeds = new SplittableRandom(settings.seed());
        GoldScore gold = new GoldScore();
        List<SimulatedAnnotator> members = new ArrayList<>();
        for (AnnotatorProfile profile : settings.annotators()) {
            members.add(new SimulatedAnnotator(profile, settings, gold, seeds.nextLong()));
        }
        this.annotators = List.copyOf(members);
        this.assignment = new SplittableRandom(seeds.nextLong());
    }

    public List<SimulatedAnnotator> annotators() {
        return annotators;
    }

    /** One judgment of {@code comparison} by a panel member drawn at random. */
    public Judgment judge(Comparison comparison) {
        return annotators.get(assignment.nextInt(annotators.size())).judge(comparison);
    }

    /** Judges every comparison in order, numbering them from {@code firstSequence}. */
    public List<JudgedComparison> judgeAll(List<Comparison> comparisons, long firstSequence) {
        List<JudgedComparison> judged = new ArrayList<>(comparisons.size());
        for (int i = 0; i < comparisons.size(); i++) {
            judged.add(new JudgedComparison(firstSequence + i, comparisons.get(i), judge(comparisons.get(i))));
        }
        return judged;
    }
}
