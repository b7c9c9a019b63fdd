package dev.rlhf.rewardmodel.annotators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.ComparisonSource;
import dev.rlhf.rewardmodel.GoldAgreement;
import java.util.List;
import org.junit.jupiter.api.Test;

class PanelMajorityTest {
    private static final List<Comparison> COMPARISONS = ComparisonSource.fromCorpus(new ReviewCorpus(), 300, 4, 11);

    private static SimulatedAnnotatorPanel panel(AnnotatorProfile... members) {
        return new SimulatedAnnotatorPanel(new AnnotatorPanelSettings(3, 0.25, 0.6, List.of(members)));
    }

    @Test
    void carefulAnnotatorsAgreeWithGoldOnTheComparisonsGoldOrders() {
        // run
        GoldAgreement careful = PanelMajority.accuracyAgainstGold(panel(
                new AnnotatorProfile("a", 1e-6, 0, 0), new AnnotatorProfile("b", 1e-6, 0, 0),
                new AnnotatorProfile("c", 1e-6, 0, 0)), COMPARISONS, new GoldScore());

        // verify
        assertEquals(1.0, careful.accuracy());
        assertEquals(COMPARISONS.size(), careful.pairs() + careful.goldTies());
        assertTrue(careful.pairs() > 200, "most comparisons are ordered by gold: " + careful);
    }

    @Test
    void aNoisierPanelHasALowerCeilingAndMajoritiesBeatOneCarelessAnnotator() {
        // setup
        AnnotatorProfile careless = new AnnotatorProfile("careless", 0.5, 0, 0);

        // run
        GoldAgreement alone = PanelMajority.accuracyAgainstGold(panel(careless), COMPARISONS, new GoldScore());
        GoldAgreement three = PanelMajority.accuracyAgainstGold(panel(careless,
                new AnnotatorProfile("careless-2", 0.5, 0, 0), new AnnotatorProfile("careless-3", 0.5, 0, 0)),
                COMPARISONS, new GoldScore());

        // verify
        assertTrue(alone.accuracy() < 0.9, "one careless annotator: " + alone);
        assertTrue(three.accuracy() > alone.accuracy(), "a majority of three: " + three + " vs " + alone);
        assertEquals(alone.pairs(), three.pairs(), "counted on the same comparisons");
    }

    @Test
    void theCeilingCountsTheComparisonsTheRewardModelsAccuracyCounts() {
        // run: the same held-out list as GoldAgreement.measure takes, gold ties left out by the same rule
        GoldAgreement ceiling = PanelMajority.accuracyAgainstGold(panel(new AnnotatorProfile("a", 0.1, 0, 0)),
                COMPARISONS, new GoldScore());

        // verify
        GoldScore gold = new GoldScore();
        long ordered = COMPARISONS.stream()
                .filter(c -> gold.score(c.prompt(), c.responseA()) != gold.score(c.prompt(), c.responseB())).count();
        assertEquals(ordered, ceiling.pairs());
    }
}
