package dev.rlhf.rewardmodel;

import dev.rlhf.policy.train.Gradients;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class BradleyTerryLossTest {

    private static double softplus(double x) {
        return Math.log1p(Math.exp(x));
    }

    @Test
    void lossIsMeanNegativeLogSigmoidOfTheScoreGapMinusMargin() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray chosen = manager.create(new float[] {2f, 0f, 1.5f});
            NDArray rejected = manager.create(new float[] {1f, 1f, 1f});
            NDArray margin = manager.create(new float[] {0f, 0f, 1f});
            // gaps minus margins: 1, -1, -0.5; -log sigmoid(z) = log(1 + exp(-z))
            double expected = (softplus(-1) + softplus(1) + softplus(0.5)) / 3;
            float loss = BradleyTerryLoss.loss(chosen, rejected, margin).getFloat();
            assertEquals(expected, loss, 1e-6, "Bradley-Terry loss of the hand example");
        }
    }

    @Test
    void gradientRaisesTheChosenScoreAndLowersTheRejectedOne() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray chosen = manager.create(new float[] {2f, 0f});
            NDArray rejected = manager.create(new float[] {1f, 1f});
            chosen.setRequiresGradient(true);
            rejected.setRequiresGradient(true);
            try (GradientCollector collector = Gradients.collect()) {
                collector.backward(BradleyTerryLoss.loss(chosen, rejected, manager.zeros(chosen.getShape())));
            }
            float[] dChosen = chosen.getGradient().toFloatArray();
            float[] dRejected = rejected.getGradient().toFloatArray();
            // d/dc of mean(-log sigmoid(c - r)) = -sigmoid(r - c) / n; d/dr is its negative
            double[] expected = {-1 / (1 + Math.exp(1)) / 2, -1 / (1 + Math.exp(-1)) / 2};
            for (int i = 0; i < 2; i++) {
                assertTrue(dChosen[i] < 0, "descending the loss must raise chosen score " + i);
                assertTrue(dRejected[i] > 0, "descending the loss must lower rejected score " + i);
                assertEquals(expected[i], dChosen[i], 1e-6, "gradient of chosen score " + i);
                assertEquals(-expected[i], dRejected[i], 1e-6, "gradient of rejected score " + i);
            }
        }
    }

    @Test
    void hugeWrongWayGapGivesAFiniteLinearLoss() {
        try (NDManager manager = NDManager.newBaseManager()) {
            float loss = BradleyTerryLoss.loss(manager.create(new float[] {-100f}), manager.create(new float[] {100f}),
                    manager.create(new float[] {0f})).getFloat();
            assertEquals(200f, loss, 1e-3, "softplus(200) is 200 and must not overflow to infinity");
        }
    }
}
