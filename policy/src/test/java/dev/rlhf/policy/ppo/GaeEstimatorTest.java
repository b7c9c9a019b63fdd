package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class GaeEstimatorTest {

    @Test
    void advantagesAndReturnsMatchHandComputedRecursionAndIgnorePadding() {
        double gamma = 0.9;
        double lambda = 0.5;
        // row 0: three real tokens; row 1: two real tokens, then padding holding garbage the estimator must ignore
        float[] rewards = {0.1f, -0.2f, 1.0f, 0.3f, 2.0f, 5f};
        float[] values = {0.5f, 0.4f, 0.3f, 0.2f, -0.1f, 7f};
        float[] mask = {1, 1, 1, 1, 1, 0};

        GaeEstimator.Estimate estimate = new GaeEstimator(gamma, lambda).estimate(rewards, values, mask, 2);

        double a02 = 1.0 + gamma * 0 - 0.3;
        double a01 = (-0.2 + gamma * 0.3 - 0.4) + gamma * lambda * a02;
        double a00 = (0.1 + gamma * 0.4 - 0.5) + gamma * lambda * a01;
        double a11 = 2.0 + gamma * 0 - (-0.1); // the padded value 7 must not be bootstrapped from
        double a10 = (0.3 + gamma * -0.1 - 0.2) + gamma * lambda * a11;
        assertArrayEquals(floats(a00, a01, a02, a10, a11, 0), estimate.advantages(), 1e-6f, "advantages");
        assertArrayEquals(floats(a00 + 0.5, a01 + 0.4, a02 + 0.3, a10 + 0.2, a11 - 0.1, 0), estimate.returns(), 1e-6f,
                "returns = advantages + values");
    }

    @Test
    void withGammaAndLambdaOneAdvantageIsRewardToGoMinusValue() {
        float[] rewards = {0.5f, -1f, 2f};
        float[] values = {0.3f, 0.2f, -0.4f};

        GaeEstimator.Estimate estimate = new GaeEstimator(1, 1).estimate(rewards, values, new float[] {1, 1, 1}, 1);

        assertArrayEquals(floats(1.5 - 0.3, 1.0 - 0.2, 2.0 + 0.4), estimate.advantages(), 1e-6f);
        assertArrayEquals(floats(1.5, 1.0, 2.0), estimate.returns(), 1e-6f, "returns are the Monte-Carlo returns");
    }

    static float[] floats(double... values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
