package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.align.SequenceLogprobs.Reduction;
import dev.rlhf.policy.train.Gradients;
import org.junit.jupiter.api.Test;

/** β 0.1, so the target margin 1/(2β) is 5. */
class IpoLossTest {

    @Test
    void summedMarginOfTwoGivesNine() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup: Δ = (-10 + 11) - (-12 + 11) = 2
            PreferenceLogprobs logprobs = OnePair.sequences(manager,
                    new float[] {-10f}, new float[] {-12f}, new float[] {-11f}, new float[] {-11f});

            // run
            PreferenceTerms terms = new IpoLoss(0.1, Reduction.SUM).compute(logprobs);

            // verify
            assertEquals(9.0, terms.loss().getFloat(), 1e-5, "(2 - 5)^2");
            assertEquals(0.2, terms.rewardMargin().getFloat(), 1e-6, "β Δ");
        }
    }

    @Test
    void theReductionSettingChoosesSummedOrAveragedTokenLogprobs() {
        // setup, run: summed Δ = 2, averaged Δ = 1.5 (see OnePair)
        float[][] summed = lossAndGradients(Reduction.SUM, false);
        float[][] averaged = lossAndGradients(Reduction.MEAN, false);

        // verify: dL/dΔ = 2 (Δ - 5): -6 summed (on every token), -7 averaged (÷ 2 per chosen token, ÷ 1 rejected)
        assertEquals(9f, summed[0][0], 1e-5f, "(2 - 5)^2");
        assertArrayEquals(new float[] {-6f, -6f, 0f}, summed[1], 1e-5f, "summed: chosen gradient");
        assertArrayEquals(new float[] {6f, 0f, 0f, 0f}, summed[2], 1e-5f, "summed: rejected gradient");
        assertEquals(12.25f, averaged[0][0], 1e-5f, "(1.5 - 5)^2");
        assertArrayEquals(new float[] {-3.5f, -3.5f, 0f}, averaged[1], 1e-5f, "averaged: chosen gradient");
        assertArrayEquals(new float[] {7f, 0f, 0f, 0f}, averaged[2], 1e-5f, "averaged: rejected gradient");
    }

    @Test
    void garbageInPaddingChangesNeitherLossNorGradients() {
        for (Reduction reduction : Reduction.values()) {
            // setup, run
            float[][] clean = lossAndGradients(reduction, false);
            float[][] dirty = lossAndGradients(reduction, true);

            // verify
            for (int i = 0; i < clean.length; i++) {
                assertArrayEquals(clean[i], dirty[i], 0f, reduction + ": loss and gradients [" + i + "]");
            }
        }
    }

    @Test
    void badSettingsAreRejected() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new IpoLoss(0, Reduction.MEAN));
        assertTrue(e.getMessage().contains("beta"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new IpoLoss(-1, Reduction.SUM));
        assertThrows(NullPointerException.class, () -> new IpoLoss(0.1, null));
    }

    private static float[][] lossAndGradients(Reduction reduction, boolean garbage) {
        try (NDManager manager = NDManager.newBaseManager()) {
            OnePair pair = new OnePair(manager, garbage);
            float value;
            try (GradientCollector collector = Gradients.collect()) {
                NDArray total = new IpoLoss(0.1, reduction).compute(pair.tokens).loss();
                value = total.getFloat();
                collector.backward(total);
            }
            return new float[][] {{value}, pair.policyChosen.getGradient().toFloatArray(),
                    pair.policyRejected.getGradient().toFloatArray()};
        }
    }
}
