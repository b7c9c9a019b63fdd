package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.train.Gradients;
import org.junit.jupiter.api.Test;

class KlEstimatorsTest {
    private static final Shape SHAPE = new Shape(1, 3);
    private static final float[] MASK = {1, 1, 0};

    @Test
    void k3MatchesItsFormulaAndIsZeroWithZeroGradientOnPadding() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup: token 0 log π -1.0 against log π_ref -1.2; token 1 equal; token 2 padding with garbage
            NDArray logprobs = manager.create(new float[] {-1.0f, -3f, Float.NaN}, SHAPE);
            NDArray ref = manager.create(new float[] {-1.2f, -3f, Float.POSITIVE_INFINITY}, SHAPE);
            logprobs.setRequiresGradient(true);

            // run
            float[] k3;
            try (GradientCollector collector = Gradients.collect()) {
                NDArray perToken = KlEstimators.k3(logprobs, ref, manager.create(MASK, SHAPE));
                k3 = perToken.toFloatArray();
                collector.backward(perToken.sum());
            }

            // verify: e^-0.2 + 0.2 - 1; d/dlog π = 1 - e^-0.2
            assertArrayEquals(new float[] {0.018731f, 0f, 0f}, k3, 1e-6f, "k3 per token");
            assertArrayEquals(new float[] {0.181269f, 0f, 0f}, logprobs.getGradient().toFloatArray(), 1e-6f,
                    "gradient, 0 on padding");
        }
    }

    @Test
    void k1SumAddsLogRatiosOverResponseTokens() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // setup
            NDArray logprobs = manager.create(new float[] {-1f, -2f, Float.NEGATIVE_INFINITY, -1f, -1f, 1e30f},
                    new Shape(2, 3));
            NDArray ref = manager.create(new float[] {-1.5f, -1f, Float.NaN, -3f, -1f, 0f}, new Shape(2, 3));
            NDArray mask = manager.create(new float[] {1, 1, 0, 1, 0, 0}, new Shape(2, 3));

            // run
            float[] kl = KlEstimators.k1Sum(logprobs, ref, mask).toFloatArray();

            // verify
            assertArrayEquals(new float[] {-0.5f, 2f}, kl, 1e-6f, "0.5 - 1, then 2");
        }
    }

    @Test
    void mismatchedShapesAreRejected() {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThrows(IllegalArgumentException.class, () -> KlEstimators.k3(manager.zeros(SHAPE),
                    manager.zeros(new Shape(1, 2)), manager.ones(SHAPE)));
        }
    }
}
