package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.align.GrpoLoss.Aggregation;
import dev.rlhf.policy.train.Gradients;
import org.junit.jupiter.api.Test;

class GrpoLossTest {
    private static final float LN3 = (float) Math.log(3);

    /** Result of one loss evaluation with its gradient with respect to the policy's log-probs. */
    private record Evaluated(float loss, float policyLoss, Float kl, float clipFraction, float[] gradient) {}

    /**
     * Advantage -1 on both sequences, so each token's loss is max(r, clip(r)) = r here: ratios [1, 3] (the 3 is
     * outside the clip range, but the unclipped term is the larger, so it is taken) and [1, 1, 1, 1].
     */
    private static final float[] AGG_OLD = {-1f, -1f, 0f, 0f, -1f, -1f, -1f, -1f};
    private static final float[] AGG_LOGPROBS = {-1f, -1f + LN3, 0f, 0f, -1f, -1f, -1f, -1f};
    private static final float[] AGG_MASK = {1, 1, 0, 0, 1, 1, 1, 1};

    @Test
    void tokenMeanWeighsEveryTokenAlike() {
        // run
        Evaluated result = evaluate(new GrpoLoss(0.2, 0.2, 0, Aggregation.TOKEN_MEAN), AGG_LOGPROBS, AGG_OLD, null,
                new float[] {-1, -1}, AGG_MASK, new Shape(2, 4), false);

        // verify: (1 + 3 + 1 + 1 + 1 + 1) / 6; d/dlog π of r / 6 is r / 6
        assertEquals(1.333333f, result.loss(), 1e-5f, "token mean");
        assertArrayEquals(new float[] {1 / 6f, 3 / 6f, 0, 0, 1 / 6f, 1 / 6f, 1 / 6f, 1 / 6f}, result.gradient(),
                1e-5f, "gradient");
        assertEquals(0f, result.clipFraction(), 0f, "the unclipped term was taken everywhere");
    }

    @Test
    void sequenceMeanWeighsEverySequenceAlike() {
        // run
        Evaluated result = evaluate(new GrpoLoss(0.2, 0.2, 0, Aggregation.SEQUENCE_MEAN), AGG_LOGPROBS, AGG_OLD,
                null, new float[] {-1, -1}, AGG_MASK, new Shape(2, 4), false);

        // verify: ((1 + 3) / 2 + (1 + 1 + 1 + 1) / 4) / 2
        assertEquals(1.5f, result.loss(), 1e-5f, "sequence mean of token means");
        assertArrayEquals(new float[] {1 / 4f, 3 / 4f, 0, 0, 1 / 8f, 1 / 8f, 1 / 8f, 1 / 8f}, result.gradient(),
                1e-5f, "gradient");
    }

    /** Sequence 0 has advantage +1 and log-ratios 0.22, 0.4, 0; sequence 1 advantage -1 and -0.22, -0.4, 0. */
    private static final float[] CLIP_OLD = {-2f, -2f, -2f, 0f, -2f, -2f, -2f, 0f};
    private static final float[] CLIP_LOGPROBS = {-1.78f, -1.6f, -2f, 0f, -2.22f, -2.4f, -2f, 0f};
    private static final float[] CLIP_MASK = {1, 1, 1, 0, 1, 1, 1, 0};
    private static final float[] CLIP_ADVANTAGES = {1, -1};

    @Test
    void symmetricClipStopsTheGradientOutsideOnePlusMinusEpsilon() {
        // run
        Evaluated result = evaluate(new GrpoLoss(0.2, 0), CLIP_LOGPROBS, CLIP_OLD, null, CLIP_ADVANTAGES,
                CLIP_MASK, new Shape(2, 4), false);

        // verify: A = +1 takes -min(r, clip(r)): -1.2, -1.2, -1; A = -1 takes max(r, clip(r)): e^-0.22, 0.8, 1
        double expected = (-1.2 - 1.2 - 1 + Math.exp(-0.22) + 0.8 + 1) / 6;
        assertEquals(expected, result.loss(), 1e-5, "loss");
        assertArrayEquals(new float[] {0, 0, -1 / 6f, 0, (float) Math.exp(-0.22) / 6, 0, 1 / 6f, 0},
                result.gradient(), 1e-5f, "clipped tokens get no gradient");
        assertEquals(3 / 6f, result.clipFraction(), 1e-6f, "tokens 0 and 1 of sequence 0, token 1 of sequence 1");
    }

    @Test
    void clipHigherWidensOnlyTheUpperBound() {
        // run: ε_low 0.2, ε_high 0.28 (DAPO)
        Evaluated result = evaluate(new GrpoLoss(0.2, 0.28, 0, Aggregation.TOKEN_MEAN), CLIP_LOGPROBS, CLIP_OLD,
                null, CLIP_ADVANTAGES, CLIP_MASK, new Shape(2, 4), false);

        // verify: e^0.22 = 1.246 is now inside, e^0.4 = 1.492 is clipped at 1.28; the lower side is unchanged
        double expected = (-Math.exp(0.22) - 1.28 - 1 + Math.exp(-0.22) + 0.8 + 1) / 6;
        assertEquals(expected, result.loss(), 1e-5, "loss");
        assertArrayEquals(new float[] {(float) -Math.exp(0.22) / 6, 0, -1 / 6f, 0, (float) Math.exp(-0.22) / 6,
                0, 1 / 6f, 0}, result.gradient(), 1e-5f, "gradient");
        assertEquals(2 / 6f, result.clipFraction(), 1e-6f, "token 1 of each sequence");
    }

    @Test
    void klPenaltyIsBetaTimesTheAggregatedK3() {
        // setup: log π -1.0 against log π_ref -1.2 on token 0, equal on token 1; advantage 0, ratio 1
        float[] logprobs = {-1.0f, -2f};
        float[] ref = {-1.2f, -2f};

        // run
        Evaluated result = evaluate(new GrpoLoss(0.2, 0.04), logprobs, logprobs, ref, new float[] {0},
                new float[] {1, 1}, new Shape(1, 2), false);

        // verify: k3 = e^-0.2 + 0.2 - 1 = 0.018731 on token 0; d/dlog π = β (1 - e^-0.2) / 2
        assertEquals(0.018731f / 2, result.kl(), 1e-6f, "token-mean k3");
        assertEquals(0f, result.policyLoss(), 0f, "zero advantage");
        assertEquals(0.04f * 0.018731f / 2, result.loss(), 1e-7f, "β kl");
        assertArrayEquals(new float[] {0.04f * 0.181269f / 2, 0f}, result.gradient(), 1e-7f, "gradient");
    }

    @Test
    void withoutReferenceLogprobsNoKlIsReported() {
        Evaluated result = evaluate(new GrpoLoss(0.2, 0), AGG_LOGPROBS, AGG_OLD, null, new float[] {-1, -1},
                AGG_MASK, new Shape(2, 4), false);
        assertNull(result.kl());
    }

    @Test
    void garbageInPaddingChangesNeitherLossNorGradient() {
        // setup: mixed ratios (some clipped), a KL term, both aggregations
        float[] old = {-1f, -2f, -0.5f, -3f, -1f, -1.5f};
        float[] logprobs = {-0.7f, -2.1f, -0.5f, -2.5f, -1.2f, -1.5f};
        float[] ref = {-1.1f, -1.9f, -0.4f, -3f, -0.9f, -2f};
        float[] mask = {1, 1, 0, 1, 1, 1};
        float[] advantages = {0.7f, -1.3f};
        for (Aggregation aggregation : Aggregation.values()) {
            GrpoLoss loss = new GrpoLoss(0.2, 0.28, 0.1, aggregation);

            // run
            Evaluated clean = evaluate(loss, logprobs, old, ref, advantages, mask, new Shape(2, 3), false);
            Evaluated dirty = evaluate(loss, logprobs, old, ref, advantages, mask, new Shape(2, 3), true);

            // verify
            assertEquals(clean.loss(), dirty.loss(), 0f, aggregation + ": loss");
            assertEquals(clean.clipFraction(), dirty.clipFraction(), 0f, aggregation + ": clip fraction");
            assertArrayEquals(clean.gradient(), dirty.gradient(), 0f, aggregation + ": gradient");
            assertEquals(0f, dirty.gradient()[2], 0f, aggregation + ": no gradient on padding");
            assertTrue(Float.isFinite(dirty.loss()), aggregation + ": finite loss");
        }
    }

    @Test
    void everyResultAndIntermediateLivesInTheInputsManager() {
        try (NDManager base = NDManager.newBaseManager()) {
            // setup
            NDManager step = base.newSubManager();
            Shape shape = new Shape(2, 4);
            NDArray logprobs = step.create(AGG_LOGPROBS, shape);
            GrpoLoss.Inputs inputs = new GrpoLoss.Inputs(step.create(AGG_OLD, shape), step.create(AGG_OLD, shape),
                    step.create(new float[] {1, -1}), step.create(AGG_MASK, shape));

            // run
            GrpoLoss.Terms terms = new GrpoLoss(0.2, 0.1).compute(logprobs, inputs);
            step.close();

            // verify
            assertTrue(terms.loss().isReleased(), "the loss is released with the step's manager");
            assertEquals(0, ((BaseNDManager) base).getManagedArrays().size(), "nothing left in the parent");
        }
    }

    @Test
    void badSettingsAndInputsAreRejectedWithAClearMessage() {
        IllegalArgumentException low = assertThrows(IllegalArgumentException.class, () -> new GrpoLoss(0, 0));
        assertTrue(low.getMessage().contains("clipLow"), low.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GrpoLoss(1, 0));
        IllegalArgumentException high = assertThrows(IllegalArgumentException.class,
                () -> new GrpoLoss(0.2, 0, 0, Aggregation.TOKEN_MEAN));
        assertTrue(high.getMessage().contains("clipHigh"), high.getMessage());
        IllegalArgumentException kl = assertThrows(IllegalArgumentException.class, () -> new GrpoLoss(0.2, -0.1));
        assertTrue(kl.getMessage().contains("klCoefficient"), kl.getMessage());
        try (NDManager manager = NDManager.newBaseManager()) {
            Shape shape = new Shape(2, 4);
            NDArray logprobs = manager.create(AGG_LOGPROBS, shape);
            NDArray mask = manager.create(AGG_MASK, shape);
            IllegalArgumentException noRef = assertThrows(IllegalArgumentException.class,
                    () -> new GrpoLoss(0.2, 0.1).compute(logprobs,
                            new GrpoLoss.Inputs(logprobs, null, manager.create(new float[] {1, 1}), mask)));
            assertTrue(noRef.getMessage().contains("reference"), noRef.getMessage());
            IllegalArgumentException advantages = assertThrows(IllegalArgumentException.class,
                    () -> new GrpoLoss(0.2, 0).compute(logprobs,
                            new GrpoLoss.Inputs(logprobs, null, manager.create(new float[] {1, 1, 1}), mask)));
            assertTrue(advantages.getMessage().contains("advantages"), advantages.getMessage());
        }
    }

    private static Evaluated evaluate(GrpoLoss loss, float[] logprobs, float[] old, float[] ref, float[] advantages,
            float[] mask, Shape shape, boolean garbage) {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray policy = manager.create(Garbage.pad(logprobs, mask, garbage), shape);
            policy.setRequiresGradient(true);
            GrpoLoss.Inputs inputs = new GrpoLoss.Inputs(
                    manager.create(Garbage.pad(old, mask, garbage), shape),
                    ref == null ? null : manager.create(Garbage.pad(ref, mask, garbage), shape),
                    manager.create(advantages),
                    manager.create(mask, shape));
            GrpoLoss.Terms terms;
            try (GradientCollector collector = Gradients.collect()) {
                terms = loss.compute(policy, inputs);
                collector.backward(terms.loss());
            }
            return new Evaluated(terms.loss().getFloat(), terms.policyLoss().getFloat(),
                    terms.kl() == null ? null : terms.kl().getFloat(), terms.clipFraction().getFloat(),
                    policy.getGradient().toFloatArray());
        }
    }
}
