package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KappaTest {

    @TempDir Path dir;

    @Test
    void cohenMatchesTheTextbookYesNoExample() {
        // Wikipedia, "Cohen's kappa", example 1: 50 proposals; yes/yes 20, yes/no 5, no/yes 10, no/no 15.
        // p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4.
        assertEquals(0.4, Kappa.cohen(new long[][] {{20, 5}, {10, 15}}), 1e-12);
    }

    @Test
    void cohenIsOneForPerfectAgreementAndNaNWhenChanceAgreementIsCertain() {
        assertEquals(1.0, Kappa.cohen(new long[][] {{3, 0, 0}, {0, 4, 0}, {0, 0, 2}}), 1e-12);
        assertTrue(Double.isNaN(Kappa.cohen(new long[][] {{5, 0}, {0, 0}})));
    }

    @Test
    void fleissMatchesTheTextbookFourteenRaterExample() {
        // Wikipedia, "Fleiss' kappa", worked example (10 subjects, 14 raters, 5 categories):
        // P-bar = 0.378, P-e = 0.213, kappa = 0.210.
        long[][] counts = {
            {0, 0, 0, 0, 14},
            {0, 2, 6, 4, 2},
            {0, 0, 3, 5, 6},
            {0, 3, 9, 2, 0},
            {2, 2, 8, 1, 1},
            {7, 7, 0, 0, 0},
            {3, 2, 6, 3, 0},
            {2, 5, 3, 2, 2},
            {6, 5, 2, 1, 0},
            {0, 2, 2, 3, 7},
        };
        assertEquals(0.20993, Kappa.fleiss(counts), 5e-5);
    }

    @Test
    void krippendorffAlphaMatchesTheNominalTextbookExampleWithMissingValues() {
        // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", nominal example: 4 observers, 12 units,
        // values 1..5, missing ones left out. Per unit, the count of each value (unit 12 has one value: unpairable):
        long[][] counts = {
            {3, 0, 0, 0, 0}, {0, 3, 1, 0, 0}, {0, 0, 4, 0, 0}, {0, 0, 4, 0, 0}, {0, 4, 0, 0, 0}, {1, 1, 1, 1, 0},
            {0, 0, 0, 4, 0}, {3, 1, 0, 0, 0}, {0, 4, 0, 0, 0}, {0, 0, 0, 0, 3}, {2, 0, 0, 0, 0}, {0, 0, 1, 0, 0},
        };
        // n = 40 pairable values, n_c = (9, 13, 10, 5, 3); sum of o_cc = 32, so D_o = 8/40 and
        // D_e = (40^2 - 384) / (40 * 39) = 1216/1560: alpha = 1 - (8/40) / (1216/1560) = 113/152 = 0.743.
        assertEquals(113.0 / 152.0, Kappa.krippendorffAlpha(counts), 1e-12);
    }

    @Test
    void krippendorffAlphaIsOneWhenAllAgreeAndNaNWithoutExpectedDisagreement() {
        assertEquals(1.0, Kappa.krippendorffAlpha(new long[][] {{2, 0, 0}, {0, 3, 0}, {0, 0, 2}}), 1e-12);
        assertTrue(Double.isNaN(Kappa.krippendorffAlpha(new long[][] {{2, 0}, {3, 0}})), "one category only");
        assertTrue(Double.isNaN(Kappa.krippendorffAlpha(new long[0][])), "no items");
    }

    @Test
    void fleissRejectsItemsWithDifferentNumbersOfRatings() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Kappa.fleiss(new long[][] {{1, 1}, {2, 1}}));
        assertTrue(e.getMessage().contains("item 1"), e.getMessage());
    }

    @Test
    void storeComputesAgreementOverJudgedComparisonsIgnoringSkipsAndCandidateOrder() {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            addTasks(store, 5);
            // Categories: L = first candidate better, H = second better, T = tie.
            // alice: t1 L, t2 L, t3 H, t4 T, t5 skip
            // bob:   t1 L, t2 H, t3 H (shown swapped: A = candidate 1), t4 T, t5 L
            judge(store, "alice", "t1", Choice.CHOICE_A, false);
            judge(store, "alice", "t2", Choice.CHOICE_A, false);
            judge(store, "alice", "t3", Choice.CHOICE_B, false);
            judge(store, "alice", "t4", Choice.CHOICE_TIE, false);
            judge(store, "alice", "t5", Choice.CHOICE_SKIP, false);
            judge(store, "bob", "t1", Choice.CHOICE_A, false);
            judge(store, "bob", "t2", Choice.CHOICE_B, false);
            judge(store, "bob", "t3", Choice.CHOICE_A, true);
            judge(store, "bob", "t4", Choice.CHOICE_TIE, false);
            judge(store, "bob", "t5", Choice.CHOICE_A, false);

            // Common items t1..t4: agree on t1, t3, t4 -> p_o = 3/4.
            // alice marginals L 2, H 1, T 1; bob L 1, H 2, T 1 -> p_e = (2*1 + 1*2 + 1*1) / 16 = 5/16.
            // kappa = (3/4 - 5/16) / (11/16) = 7/11.
            Agreement cohen = store.cohensKappa("alice", "bob");
            assertEquals(4, cohen.items());
            assertEquals(7.0 / 11.0, cohen.kappa(), 1e-12);

            // Fleiss over the same 4 items with 2 ratings each: rows L2; L1 H1; H2; T2.
            // P_i = 1, 0, 1, 1 -> P-bar = 3/4; p_L = 3/8, p_H = 3/8, p_T = 2/8 -> P_e = 22/64.
            // kappa = (3/4 - 22/64) / (42/64) = 26/42.
            Agreement fleiss = store.fleissKappa(2);
            assertEquals(4, fleiss.items());
            assertEquals(26.0 / 42.0, fleiss.kappa(), 1e-12);
        }
    }

    private static void judge(PreferenceStore store, String annotator, String taskId, Choice choice, boolean swapped) {
        var submission = judgment(annotator + "-" + taskId, taskId, annotator, choice).toBuilder();
        if (swapped) {
            submission.setCandidateA(1).setCandidateB(0);
        }
        store.submitJudgment(submission.build()).join();
    }
}
