package dev.rlhf.rewardmodel.annotators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.ComparisonSource;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.Judgment;
import dev.rlhf.rewardmodel.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimulatedAnnotatorPanelTest {
    private static final List<Comparison> COMPARISONS = ComparisonSource.fromCorpus(new ReviewCorpus(), 2000, 4, 5);
    private static final GoldScore GOLD = new GoldScore();

    private static SimulatedAnnotatorPanel panel(long seed, AnnotatorProfile... members) {
        return new SimulatedAnnotatorPanel(new AnnotatorPanelSettings(seed, 0.25, 0.6, List.of(members)));
    }

    /** Share of judgments with a winner that pick gold's winner, over comparisons gold does not tie. */
    private static double goldAgreement(SimulatedAnnotatorPanel panel) {
        int counted = 0;
        int agreed = 0;
        for (Comparison c : COMPARISONS) {
            double difference = GOLD.score(c.prompt(), c.responseA()) - GOLD.score(c.prompt(), c.responseB());
            Judgment j = panel.judge(c);
            if (difference != 0 && (j.verdict() == Verdict.A || j.verdict() == Verdict.B)) {
                counted++;
                agreed += (j.verdict() == Verdict.A) == (difference > 0) ? 1 : 0;
            }
        }
        return (double) agreed / counted;
    }

    @Test
    void samePanelSeedGivesTheSameJudgments() {
        AnnotatorProfile careful = new AnnotatorProfile("careful", 0.05, 0.02, 0.05);
        AnnotatorProfile careless = new AnnotatorProfile("careless", 0.5, 0, 0.1);
        List<JudgedComparison> first = panel(3, careful, careless).judgeAll(COMPARISONS, 10);
        List<JudgedComparison> second = panel(3, careful, careless).judgeAll(COMPARISONS, 10);
        List<JudgedComparison> other = panel(4, careful, careless).judgeAll(COMPARISONS, 10);

        assertEquals(first, second, "two panels with one seed judge alike");
        assertTrue(!first.equals(other), "another seed gives other judgments");
        assertEquals(10, first.get(0).sequence(), "numbering starts at firstSequence");
        assertEquals(2, first.stream().map(j -> j.judgment().annotatorId()).distinct().count(),
                "both members judge");
    }

    @Test
    void keyedJudgmentDependsOnTheKeyNotOnWhatWasJudgedBefore() {
        AnnotatorProfile careless = new AnnotatorProfile("careless", 0.5, 0, 0.3);
        SimulatedAnnotator fresh = panel(3, careless).annotators().get(0);
        SimulatedAnnotator busy = panel(3, careless).annotators().get(0);
        for (int i = 0; i < 100; i++) {
            busy.judge(COMPARISONS.get(i)); // moves its stream on
            busy.judge(COMPARISONS.get(i), "other-" + i);
        }
        List<Judgment> first = new java.util.ArrayList<>();
        List<Judgment> again = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            first.add(fresh.judge(COMPARISONS.get(i), "task-" + i));
            again.add(busy.judge(COMPARISONS.get(i), "task-" + i));
        }
        assertEquals(first, again, "a task gets the same judgment whenever it is judged");
        assertTrue(first.stream().map(Judgment::verdict).distinct().count() >= 3,
                "the draws still vary from task to task: " + first.stream().map(Judgment::verdict).distinct().toList());
    }

    @Test
    void carelessAnnotatorAgreesWithGoldLessOftenThanCarefulOne() {
        double careful = goldAgreement(panel(1, new AnnotatorProfile("careful", 0.05, 0, 0)));
        double careless = goldAgreement(panel(1, new AnnotatorProfile("careless", 0.5, 0, 0)));

        assertTrue(careful > 0.95, "a careful annotator should agree with gold almost always: " + careful);
        assertTrue(careless < careful - 0.1, "a careless annotator should agree clearly less often than a careful"
                + " one: careless " + careless + ", careful " + careful);
    }

    @Test
    void tiesFallInsideTheBandSkipsComeAtTheirRateAndStrengthFollowsTheGoldMargin() {
        SimulatedAnnotatorPanel panel = panel(2, new AnnotatorProfile("a", 0.05, 0.1, 0.2));
        int skips = 0;
        for (Comparison c : COMPARISONS) {
            double difference = Math.abs(GOLD.score(c.prompt(), c.responseA()) - GOLD.score(c.prompt(), c.responseB()));
            Judgment j = panel.judge(c);
            switch (j.verdict()) {
                case SKIP -> skips++;
                case TIE -> assertTrue(difference < 0.1, "tie outside the band at difference " + difference);
                default -> {
                    assertTrue(difference >= 0.1, "winner inside the tie band at difference " + difference);
                    int expected = difference >= 0.6 ? 3 : difference >= 0.25 ? 2 : 1;
                    assertEquals(expected, j.strength(), "strength at gold difference " + difference);
                }
            }
        }
        double rate = (double) skips / COMPARISONS.size();
        assertEquals(0.2, rate, 0.03, "skip rate over " + COMPARISONS.size() + " comparisons");
    }

    @Test
    void referenceConfPanelHasCarefulAndCarelessMembers() {
        AnnotatorPanelSettings settings = AnnotatorPanelSettings.from(com.typesafe.config.ConfigFactory.load());
        assertTrue(settings.annotators().stream().anyMatch(a -> a.temperature() <= 0.1), "a careful member");
        assertTrue(settings.annotators().stream().anyMatch(a -> a.temperature() >= 0.5), "a careless member");
    }
}
