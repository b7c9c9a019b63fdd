package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TokenRewardsTest {
    private static final float[] LOGPROBS = {-1.0f, -2.0f, -0.5f, -0.3f, -0.7f, -4f};
    private static final float[] REF_LOGPROBS = {-1.5f, -1.0f, -0.5f, -0.2f, -0.9f, -1f};
    private static final float[] MASK = {1, 1, 1, 1, 1, 0};

    @Test
    void everyResponseTokenPaysTheKlPenaltyAndTheLastRealOneEarnsTheScore() {
        double beta = 0.1;

        float[] rewards = TokenRewards.shape(new float[] {2f, -1f}, LOGPROBS, REF_LOGPROBS, MASK, beta, false, 0);

        float[] expected = {
            (float) (-beta * (-1.0 + 1.5)), (float) (-beta * (-2.0 + 1.0)), (float) (-beta * 0 + 2.0),
            (float) (-beta * (-0.3 + 0.2)), (float) (-beta * (-0.7 + 0.9) - 1.0), 0f
        };
        assertArrayEquals(expected, rewards, 1e-6f, "the padded token earns nothing");
    }

    @Test
    void scoresAreWhitenedOverTheBatchThenClipped() {
        float[] zeros = new float[6];

        // scores 3 and -1: mean 1, population variance 4, so whitened to +1 and -1, then clipped to +-0.5
        float[] rewards = TokenRewards.shape(new float[] {3f, -1f}, zeros, zeros, MASK, 0.1, true, 0.5);

        assertArrayEquals(new float[] {0, 0, 0.5f, 0, -0.5f, 0}, rewards, 1e-6f);
    }

    @Test
    void sequenceKlIsTheMeanOverSequencesOfSummedLogRatios() {
        double kl = TokenRewards.sequenceKl(LOGPROBS, REF_LOGPROBS, MASK, 2);

        assertEquals(((0.5 - 1.0 + 0) + (-0.1 + 0.2)) / 2, kl, 1e-6);
    }

    @Test
    void klPerSequenceSumsEachRowsMaskedLogRatios() {
        double[] kl = TokenRewards.klPerSequence(LOGPROBS, REF_LOGPROBS, MASK, 2);

        assertArrayEquals(new double[] {0.5 - 1.0 + 0, -0.1 + 0.2}, kl, 1e-6, "the padded token counts nothing");
    }
}
