package dev.rlhf.policy.ppo;

import dev.rlhf.policy.train.Gradients;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * One sequence of three real response tokens and one padded one. Token 0 stays inside the clip range, token 1's
 * ratio e^0.4 is clipped at 1.2, token 2 has a negative advantage inside the range; for the value loss token 1's
 * unclipped error dominates and token 2's clipped error does.
 */
class PpoLossTest {
    private static final double EPS = 0.2;
    private static final float[] LOGPROBS = {-1.0f, -0.5f, -2.0f, -9f};
    private static final float[] OLD_LOGPROBS = {-1.1f, -0.9f, -1.9f, -1f};
    private static final float[] ADVANTAGES = {1f, 2f, -1f, 5f};
    private static final float[] VALUES = {0.5f, 1.0f, -0.3f, 3f};
    private static final float[] OLD_VALUES = {0.4f, 0.5f, 0.0f, 0f};
    private static final float[] RETURNS = {0.6f, 0.3f, -0.5f, 0f};
    private static final float[] ENTROPY = {1f, 2f, 3f, 100f};
    private static final float[] MASK = {1, 1, 1, 0};

    @Test
    void lossTermsMatchHandComputedClippedObjectives() {
        PpoLoss loss = new PpoLoss(EPS, EPS, 0.1, 0.01);
        try (NDManager manager = NDManager.newBaseManager()) {
            PpoLoss.Terms terms = loss.compute(
                    manager.create(LOGPROBS), manager.create(VALUES), manager.create(ENTROPY), targets(manager));

            double r0 = Math.exp(0.1);
            double r1 = Math.exp(0.4);
            double r2 = Math.exp(-0.1);
            // per token: max(-A r, -A clip(r)); token 1 takes -2 * 1.2 because -2 * e^0.4 is smaller
            double policy = ((-1 * r0) + (-2 * 1.2) + (1 * r2)) / 3;
            // per token: max((V - R)^2, (V_clip - R)^2); V_clip of token 1 is 0.7, of token 2 is -0.2
            double value = 0.5 * (0.01 + 0.49 + 0.09) / 3;
            double entropy = (1 + 2 + 3) / 3.0;
            assertEquals(policy, terms.policyLoss().getFloat(), 1e-6, "policy loss");
            assertEquals(value, terms.valueLoss().getFloat(), 1e-6, "value loss");
            assertEquals(policy + 0.1 * value - 0.01 * entropy, terms.total().getFloat(), 1e-6,
                    "total, with the entropy bonus over real tokens only");
            assertEquals(0.5 * (0.01 + 0.16 + 0.01) / 3, terms.approxKl().getFloat(), 1e-6, "k2 approximate KL");
            assertEquals(1 / 3.0, terms.clipFraction().getFloat(), 1e-6, "token 1 clipped");
            assertEquals(1 / 3.0, terms.valueClipFraction().getFloat(), 1e-6, "token 2's value clipped");
        }
    }

    @Test
    void clippedAndPaddedTokensContributeNoPolicyGradient() {
        PpoLoss loss = new PpoLoss(EPS, EPS, 0, 0);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logprobs = manager.create(LOGPROBS);
            logprobs.setRequiresGradient(true);
            try (GradientCollector collector = Gradients.collect()) {
                PpoLoss.Terms terms = loss.compute(logprobs, manager.create(VALUES), targets(manager));
                collector.backward(terms.total());
            }

            // d/dlogp of -A exp(logp - old) / 3 is -A r / 3 inside the clip range
            float[] expected = {(float) (-Math.exp(0.1) / 3), 0f, (float) (Math.exp(-0.1) / 3), 0f};
            assertArrayEquals(expected, logprobs.getGradient().toFloatArray(), 1e-6f);
        }
    }

    private static PpoLoss.Targets targets(NDManager manager) {
        return new PpoLoss.Targets(manager.create(OLD_LOGPROBS), manager.create(OLD_VALUES),
                manager.create(ADVANTAGES), manager.create(RETURNS), manager.create(MASK), 3f);
    }
}
