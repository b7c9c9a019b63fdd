package dev.rlhf.rewardmodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Bradley–Terry training on two data-parallel replicas: a step's gradient is the one-replica gradient up to float
 * rounding, and two runs give the same floats.
 */
class DataParallelRewardModelTest {
    /** As the PPO test's: relative to the largest entry of each tensor's gradient (measured about 1e-7). */
    private static final double GRADIENT_TOLERANCE = 1e-5;

    @Test
    void twoReplicasGiveTheOneReplicaGradientOfAStepWithinFloatRounding() {
        List<PreferenceExample> pairs = pairs(9, 81); // an odd count: the shares are 4 and 5 pairs
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel one = TinyRewardModels.withRandomHead(TinyRewardModels.config(32), manager, 82);
                RewardModel two = RewardModel.of(one.weights().copy(manager));
                RewardModelTrainer onOne = new RewardModelTrainer(one, settings(1));
                RewardModelTrainer onTwo = new RewardModelTrainer(two, settings(2))) {
            float lossOne = onOne.step(pairs);
            float lossTwo = onTwo.step(pairs);

            assertEquals(lossOne, lossTwo, 1e-6);
            // no warm-up and no clipping: after the first AdamW step the first moment is 0.1 × gradient
            Map<String, NDArray> momentsOne = onOne.optimizer().state();
            Map<String, NDArray> momentsTwo = onTwo.optimizer().state();
            double largest =
                    momentsOne.values().stream().mapToDouble(m -> maxAbs(m.toFloatArray())).max().orElseThrow();
            assertTrue(largest > 0, "the step has a gradient");
            for (String name : one.weights().tensors().keySet()) {
                float[] expected = momentsOne.get("m." + name).toFloatArray();
                float[] actual = momentsTwo.get("m." + name).toFloatArray();
                // ln_f.bias and score.bias shift both scores of a pair alike: their gradient is 0 up to rounding
                double scale = Math.max(maxAbs(expected), 1e-3 * largest);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], actual[i], GRADIENT_TOLERANCE * scale, name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void runsOnTwoReplicasAreBitIdentical() {
        assertArrayEquals(trainOnTwoReplicas(), trainOnTwoReplicas());
    }

    private static float[] trainOnTwoReplicas() {
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = TinyRewardModels.withRandomHead(TinyRewardModels.config(32), manager, 91);
                RewardModelTrainer trainer = new RewardModelTrainer(model, settings(2))) {
            for (int step = 0; step < 3; step++) {
                trainer.step(pairs(8, 92 + step));
            }
            List<Float> values = new ArrayList<>();
            model.weights().tensors().values().forEach(t -> {
                for (float v : t.toFloatArray()) {
                    values.add(v);
                }
            });
            float[] out = new float[values.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = values.get(i);
            }
            return out;
        }
    }

    /** Pairs whose responses follow a shared prompt of 2 to 5 tokens, each 1 to 6 tokens long. */
    private static List<PreferenceExample> pairs(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<PreferenceExample> pairs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] prompt = random.ints(2 + random.nextInt(4), 0, 31).toArray();
            pairs.add(PreferenceExample.single(concat(prompt, random.ints(1 + random.nextInt(6), 0, 31).toArray()),
                    concat(prompt, random.ints(1 + random.nextInt(6), 0, 31).toArray()), 1));
        }
        return pairs;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static RewardTrainingSettings settings(int replicas) {
        return new RewardTrainingSettings(1, 1e-3f, 0, 0f, 0f, 9, 1, 1, 0.1, 0f, 8, replicas);
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
