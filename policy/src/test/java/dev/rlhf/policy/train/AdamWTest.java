package dev.rlhf.policy.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {

    /** Loss sum(c * w) has gradient c, so every step's update can be computed by hand. */
    @Test
    void twoStepsMatchHandComputedAdamWWithDecoupledDecayOnMatricesOnly() {
        float[] c = {0.5f, -2f, 3f, 0.25f};
        float[] w0 = {1f, -1f, 0.5f, 2f};
        float[] b0 = {0.3f, -0.7f};
        float[] cb = {1f, -1f};
        float lr = 0.1f;
        AdamW.Settings settings = new AdamW.Settings(lr, 0.9f, 0.999f, 1e-8f, 0.5f, 0f);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray matrix = manager.create(w0, new Shape(2, 2));
            NDArray bias = manager.create(b0);
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("matrix", matrix);
            params.put("bias", bias);
            try (AdamW optimizer = new AdamW(params, settings)) {
                for (int step = 0; step < 2; step++) {
                    try (NDManager scratch = manager.newSubManager();
                            GradientCollector collector = Gradients.collect()) {
                        NDArray loss = matrix.mul(scratch.create(c, new Shape(2, 2))).sum()
                                .add(bias.mul(scratch.create(cb)).sum());
                        collector.backward(loss);
                    }
                    optimizer.step(lr);
                }
            }
            assertArrayEquals(expected(w0, c, lr, 0.5f), matrix.toFloatArray(), 1e-5f, "matrix after two steps");
            assertArrayEquals(expected(b0, cb, lr, 0f), bias.toFloatArray(), 1e-5f, "bias (no decay)");
        }
    }

    @Test
    void gradientsAboveTheNormAreRescaledAndReported() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(new float[] {0f, 0f});
            try (AdamW optimizer = new AdamW(Map.of("w", w), new AdamW.Settings(0.1f, 0.9f, 0.999f, 1e-8f, 0f, 1f))) {
                try (NDManager scratch = manager.newSubManager();
                        GradientCollector collector = Gradients.collect()) {
                    collector.backward(w.mul(scratch.create(new float[] {3f, 4f})).sum());
                }
                AdamW.StepReport report = optimizer.step(0.1f);
                assertEquals(5.0, report.gradNorm(), 1e-5);
                assertTrue(report.clipped());
                // Adam's first step moves each coordinate by lr against the gradient's sign, whatever its scale
                assertArrayEquals(new float[] {-0.1f, -0.1f}, w.toFloatArray(), 1e-5f);
                assertEquals(0f, w.getGradient().abs().sum().getFloat(), "gradients are zeroed after the step");
            }
        }
    }

    /** Steps 1-2, a save, and step 3 on a fresh optimiser restored from it equal three uninterrupted steps. */
    @Test
    void restoredOptimiserContinuesExactlyAsTheUninterruptedOne() {
        float[] c = {0.5f, -2f, 3f, 0.25f};
        AdamW.Settings settings = new AdamW.Settings(0.1f, 0.9f, 0.999f, 1e-8f, 0.5f, 0f);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray straight = manager.create(new float[] {1f, -1f, 0.5f, 2f}, new Shape(2, 2));
            try (AdamW optimizer = new AdamW(Map.of("w", straight), settings)) {
                for (int step = 0; step < 3; step++) {
                    stepOn(optimizer, straight, c, manager);
                }
            }
            NDArray resumed = manager.create(new float[] {1f, -1f, 0.5f, 2f}, new Shape(2, 2));
            Map<String, NDArray> saved = new LinkedHashMap<>();
            int savedSteps;
            try (AdamW first = new AdamW(Map.of("w", resumed), settings)) {
                stepOn(first, resumed, c, manager);
                stepOn(first, resumed, c, manager);
                first.state().forEach((name, moment) -> {
                    NDArray copy = moment.duplicate();
                    copy.attach(manager); // outlives the optimiser, as a checkpoint file does
                    saved.put(name, copy);
                });
                savedSteps = first.steps();
            }
            try (AdamW second = new AdamW(Map.of("w", resumed), settings)) {
                second.restore(saved, savedSteps);
                assertEquals(2, second.steps());
                stepOn(second, resumed, c, manager);
            }
            assertArrayEquals(straight.toFloatArray(), resumed.toFloatArray(), "bit for bit the same weights");
        }
    }

    @Test
    void restoreNamesAMissingOrMisshapedMoment() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(new float[] {1f, 2f});
            try (AdamW optimizer = new AdamW(Map.of("w", w), AdamW.Settings.of(0.1f))) {
                IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                        () -> optimizer.restore(Map.of("m.w", manager.zeros(new Shape(2))), 1));
                assertEquals("optimizer state has no tensor v.w", missing.getMessage());
                IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                        () -> optimizer.restore(Map.of("m.w", manager.zeros(new Shape(3)),
                                "v.w", manager.zeros(new Shape(2))), 1));
                assertEquals("optimizer tensor m.w has shape (3) but the parameter needs (2)", shape.getMessage());
            }
        }
    }

    private static void stepOn(AdamW optimizer, NDArray w, float[] c, NDManager manager) {
        try (NDManager scratch = manager.newSubManager(); GradientCollector collector = Gradients.collect()) {
            collector.backward(w.mul(w).mul(scratch.create(c, w.getShape())).sum());
        }
        optimizer.step(0.1f);
    }

    private static float[] expected(float[] w0, float[] g, float lr, float decay) {
        float[] w = w0.clone();
        double[] m = new double[w.length];
        double[] v = new double[w.length];
        for (int t = 1; t <= 2; t++) {
            for (int i = 0; i < w.length; i++) {
                w[i] -= lr * decay * w[i];
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(0.9, t));
                double vHat = v[i] / (1 - Math.pow(0.999, t));
                w[i] -= (float) (lr * mHat / (Math.sqrt(vHat) + 1e-8));
            }
        }
        return w;
    }
}
