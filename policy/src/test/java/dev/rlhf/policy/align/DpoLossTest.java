package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.train.Gradients;
import org.junit.jupiter.api.Test;

/** β 0.1, policy chosen/rejected −10/−12, reference −11/−11: Δ = 2, βΔ = 0.2. */
class DpoLossTest {
    private static final double LN_1_PLUS_E_MINUS_02 = 0.598139;
    private static final double D_LOSS_D_DELTA = -0.045017; // -β σ(-βΔ)

    @Test
    void lossAndDiagnosticsMatchHandComputedValues() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup
            PreferenceLogprobs logprobs = OnePair.sequences(manager,
                    new float[] {-10f}, new float[] {-12f}, new float[] {-11f}, new float[] {-11f});

            // run
            PreferenceTerms terms = new DpoLoss(0.1).compute(logprobs);

            // verify
            assertEquals(LN_1_PLUS_E_MINUS_02, terms.loss().getFloat(), 1e-5, "-log σ(0.2) = ln(1 + e^-0.2)");
            assertArrayEquals(new float[] {0.1f}, terms.chosenRewards().toFloatArray(), 1e-6f, "β (π_c - ref_c)");
            assertArrayEquals(new float[] {-0.1f}, terms.rejectedRewards().toFloatArray(), 1e-6f, "β (π_r - ref_r)");
            assertEquals(0.2, terms.rewardMargin().getFloat(), 1e-6, "margin");
            assertEquals(1.0, terms.rewardAccuracy().getFloat(), 0, "accuracy");
        }
    }

    @Test
    void gradientThroughTokensIsMinusBetaSigmoidOnEachResponseTokenAndZeroOnPadding() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup
            OnePair pair = new OnePair(manager, true);
            DpoLoss loss = new DpoLoss(0.1);

            // run
            float value;
            try (GradientCollector collector = Gradients.collect()) {
                NDArray total = loss.compute(pair.tokens).loss();
                value = total.getFloat();
                collector.backward(total);
            }

            // verify
            float g = (float) D_LOSS_D_DELTA;
            assertEquals(LN_1_PLUS_E_MINUS_02, value, 1e-5, "summed log-probs give Δ = 2");
            assertArrayEquals(new float[] {g, g, 0f}, pair.policyChosen.getGradient().toFloatArray(), 1e-5f,
                    "dL/dπ_c = dL/dΔ per chosen token");
            assertArrayEquals(new float[] {-g, 0f, 0f, 0f}, pair.policyRejected.getGradient().toFloatArray(), 1e-5f,
                    "dL/dπ_r = -dL/dΔ per rejected token");
        }
    }

    @Test
    void garbageInPaddingChangesNeitherLossNorGradients() {
        // setup, run
        float[][] clean = lossAndGradients(false);
        float[][] dirty = lossAndGradients(true);

        // verify
        for (int i = 0; i < clean.length; i++) {
            assertArrayEquals(clean[i], dirty[i], 0f, "loss, chosen and rejected gradients [" + i + "]");
        }
    }

    @Test
    void conservativeLabelSmoothingMixesBothDirections() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup
            PreferenceLogprobs logprobs = OnePair.sequences(manager,
                    new float[] {-10f}, new float[] {-12f}, new float[] {-11f}, new float[] {-11f});
            logprobs.policyChosen().setRequiresGradient(true);

            // run
            float value;
            try (GradientCollector collector = Gradients.collect()) {
                NDArray total = new DpoLoss(0.1, 0.1).compute(logprobs).loss();
                value = total.getFloat();
                collector.backward(total);
            }

            // verify: 0.9 ln(1 + e^-0.2) + 0.1 ln(1 + e^0.2)
            assertEquals(0.618139, value, 1e-5, "conservative DPO loss");
            double expectedGradient = -0.1 * (0.9 * sigmoid(-0.2) - 0.1 * sigmoid(0.2));
            assertEquals(expectedGradient, logprobs.policyChosen().getGradient().getFloat(), 1e-6,
                    "dL/dΔ = -β ((1 - ε) σ(-βΔ) - ε σ(βΔ))");
        }
    }

    @Test
    void atZeroMarginTheLossIsLn2AndATieIsNotAccurate() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup
            PreferenceLogprobs logprobs = OnePair.sequences(manager,
                    new float[] {-11f}, new float[] {-11f}, new float[] {-11f}, new float[] {-11f});

            // run
            PreferenceTerms terms = new DpoLoss(0.1).compute(logprobs);

            // verify
            assertEquals(Math.log(2), terms.loss().getFloat(), 1e-6, "ln 2");
            assertEquals(0.0, terms.rewardAccuracy().getFloat(), 0, "a tie is not a correct ranking");
        }
    }

    @Test
    void lossIsTheMeanOverPairsAndStaysFiniteForHugeMargins() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup: pair 0 Δ = +2000, pair 1 Δ = -2000, β 1: softplus(-2000) = 0, softplus(2000) = 2000
            PreferenceLogprobs logprobs = OnePair.sequences(manager, new float[] {0f, -2000f},
                    new float[] {-2000f, 0f}, new float[] {0f, 0f}, new float[] {0f, 0f});

            // run
            PreferenceTerms terms = new DpoLoss(1).compute(logprobs);

            // verify
            assertEquals(1000.0, terms.loss().getFloat(), 1e-3, "mean of 0 and 2000, no overflow");
            assertEquals(0.5, terms.rewardAccuracy().getFloat(), 0, "one of two pairs ranked right");
            assertEquals(0.0, terms.rewardMargin().getFloat(), 1e-3, "margins +2000 and -2000");
        }
    }

    @Test
    void badSettingsAreRejectedWithTheirValue() {
        for (double beta : new double[] {0, -0.1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DpoLoss(beta));
            assertTrue(e.getMessage().contains("beta") && e.getMessage().contains(String.valueOf(beta)),
                    e.getMessage());
        }
        for (double epsilon : new double[] {-0.01, 0.5, 0.7, Double.NaN}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> new DpoLoss(0.1, epsilon));
            assertTrue(e.getMessage().contains("[0, 0.5)") && e.getMessage().contains(String.valueOf(epsilon)),
                    e.getMessage());
        }
    }

    @Test
    void pairsOfDifferentBatchesAreRejected() {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThrows(IllegalArgumentException.class, () -> OnePair.sequences(manager,
                    new float[] {-1f, -2f}, new float[] {-1f}, new float[] {-1f}, new float[] {-1f}));
        }
    }

    private static float[][] lossAndGradients(boolean garbage) {
        try (NDManager manager = NDManager.newBaseManager()) {
            OnePair pair = new OnePair(manager, garbage);
            float value;
            try (GradientCollector collector = Gradients.collect()) {
                NDArray total = new DpoLoss(0.1, 0.1).compute(pair.tokens).loss();
                value = total.getFloat();
                collector.backward(total);
            }
            return new float[][] {{value}, pair.policyChosen.getGradient().toFloatArray(),
                    pair.policyRejected.getGradient().toFloatArray()};
        }
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
