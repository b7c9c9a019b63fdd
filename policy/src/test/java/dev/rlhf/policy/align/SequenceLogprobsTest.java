package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.train.Gradients;
import org.junit.jupiter.api.Test;

class SequenceLogprobsTest {
    // row 0: three response tokens and one pad; row 1: one response token and three pads
    private static final float[] LOGPROBS = {-1f, -2f, -3f, 0f, -4f, 0f, 0f, 0f};
    private static final float[] MASK = {1, 1, 1, 0, 1, 0, 0, 0};
    private static final Shape SHAPE = new Shape(2, 4);

    @Test
    void sumAndMeanCountResponseTokensOnly() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup
            NDArray logprobs = manager.create(Garbage.pad(LOGPROBS, MASK, true), SHAPE);
            NDArray mask = manager.create(MASK, SHAPE);

            // run
            float[] sum = SequenceLogprobs.sum(logprobs, mask).toFloatArray();
            float[] mean = SequenceLogprobs.reduce(logprobs, mask, SequenceLogprobs.Reduction.MEAN).toFloatArray();

            // verify
            assertArrayEquals(new float[] {-6f, -4f}, sum, 1e-6f, "sums over response tokens");
            assertArrayEquals(new float[] {-2f, -4f}, mean, 1e-6f, "means over response tokens");
        }
    }

    @Test
    void garbageInPaddingChangesNeitherValuesNorGradients() {
        for (SequenceLogprobs.Reduction reduction : SequenceLogprobs.Reduction.values()) {
            // setup, run
            float[][] clean = valueAndGradient(Garbage.pad(LOGPROBS, MASK, false), reduction);
            float[][] dirty = valueAndGradient(Garbage.pad(LOGPROBS, MASK, true), reduction);

            // verify
            assertArrayEquals(clean[0], dirty[0], 0f, reduction + ": values");
            assertArrayEquals(clean[1], dirty[1], 0f, reduction + ": gradients");
            float[] expected = reduction == SequenceLogprobs.Reduction.SUM
                    ? new float[] {1, 1, 1, 0, 1, 0, 0, 0}
                    : new float[] {1 / 3f, 1 / 3f, 1 / 3f, 0, 1, 0, 0, 0};
            assertArrayEquals(expected, dirty[1], 1e-6f, reduction + ": d(Σ rows)/d logprob, 0 on padding");
        }
    }

    @Test
    void aRowWithoutResponseTokensIsZero() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup
            NDArray logprobs = manager.create(new float[] {-1f, Float.NaN}, new Shape(1, 2));
            NDArray mask = manager.zeros(new Shape(1, 2));

            // run, verify
            assertArrayEquals(new float[] {0f}, SequenceLogprobs.sum(logprobs, mask).toFloatArray());
            assertArrayEquals(new float[] {0f}, SequenceLogprobs.mean(logprobs, mask).toFloatArray());
        }
    }

    @Test
    void mismatchedShapesAreRejected() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup
            NDArray logprobs = manager.zeros(new Shape(2, 4));
            NDArray mask = manager.ones(new Shape(2, 3));

            // run, verify
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> SequenceLogprobs.sum(logprobs, mask));
            assertTrue(e.getMessage().contains("(2, 4)") && e.getMessage().contains("(2, 3)"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> SequenceLogprobs.mean(manager.zeros(new Shape(4)), manager.ones(new Shape(4))));
        }
    }

    /** The reduced values and the gradient of their sum with respect to the per-token log-probs. */
    private static float[][] valueAndGradient(float[] values, SequenceLogprobs.Reduction reduction) {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logprobs = manager.create(values, SHAPE);
            logprobs.setRequiresGradient(true);
            float[] reduced;
            try (GradientCollector collector = Gradients.collect()) {
                NDArray sequences = SequenceLogprobs.reduce(logprobs, manager.create(MASK, SHAPE), reduction);
                reduced = sequences.toFloatArray();
                collector.backward(sequences.sum());
            }
            return new float[][] {reduced, logprobs.getGradient().toFloatArray()};
        }
    }
}
