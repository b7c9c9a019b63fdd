package dev.rlhf.rewardmodel;

import dev.rlhf.policy.train.Gradients;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.model.GarbageCollectorPressure;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BradleyTerryLossTest {

    private static double softplus(double x) {
        return Math.log1p(Math.exp(x));
    }

    /** One vote for chosen per pair, with the given margins. */
    private static VoteTable.Arrays singleVotes(NDManager manager, float... margins) {
        float[] ones = new float[margins.length];
        Arrays.fill(ones, 1f);
        Shape shape = new Shape(margins.length, 1);
        return new VoteTable.Arrays(manager.create(ones, shape), manager.create(margins, shape),
                manager.create(ones, shape));
    }

    @Test
    void lossIsMeanNegativeLogSigmoidOfTheScoreGapMinusMargin() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray chosen = manager.create(new float[] {2f, 0f, 1.5f});
            NDArray rejected = manager.create(new float[] {1f, 1f, 1f});
            // gaps minus margins: 1, -1, -0.5; -log sigmoid(z) = log(1 + exp(-z))
            double expected = (softplus(-1) + softplus(1) + softplus(0.5)) / 3;
            float loss = BradleyTerryLoss.loss(chosen, rejected, singleVotes(manager, 0f, 0f, 1f)).getFloat();
            assertEquals(expected, loss, 1e-6, "Bradley-Terry loss of the hand example");
        }
    }

    @Test
    void gradientIsTheSameWhileTheGarbageCollectorRunsConstantly() throws InterruptedException {
        try (NDManager manager = NDManager.newBaseManager()) {
            float[] quiet = scoreGradient(manager);
            try (GarbageCollectorPressure pressure = GarbageCollectorPressure.start()) {
                for (int attempt = 0; attempt < 300; attempt++) {
                    assertArrayEquals(quiet, scoreGradient(manager), "gradient of attempt " + attempt);
                }
            }
        }
    }

    /** Gradient of the loss with respect to the chosen scores of pairs on both sides of the softplus kink. */
    private static float[] scoreGradient(NDManager parent) {
        try (NDManager manager = parent.newSubManager()) {
            NDArray chosen = manager.create(new float[] {2f, 0f, -1f, 0.5f});
            NDArray rejected = manager.create(new float[] {1f, 1f, -3f, 0.5f});
            chosen.setRequiresGradient(true);
            try (GradientCollector collector = Gradients.collect()) {
                collector.backward(BradleyTerryLoss.loss(chosen, rejected, singleVotes(manager, 0f, 0f, 1f, 0f)));
            }
            return chosen.getGradient().toFloatArray();
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
                collector.backward(BradleyTerryLoss.loss(chosen, rejected, singleVotes(manager, 0f, 0f)));
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
                    singleVotes(manager, 0f)).getFloat();
            assertEquals(200f, loss, 1e-3, "softplus(200) is 200 and must not overflow to infinity");
        }
    }

    @Test
    void votesSharingAPairCostWhatTheyCostAsSeparatePairs() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // pair 0: two votes for chosen (margins 0 and 0.5) and one against (margin 0.25); pair 1: one vote
            PreferenceExample.Vote plain = new PreferenceExample.Vote(true, 1);
            List<PreferenceExample> pairs = List.of(
                    new PreferenceExample(new int[] {1}, new int[] {2}, List.of(plain,
                            new PreferenceExample.Vote(true, 3), new PreferenceExample.Vote(false, 2))),
                    PreferenceExample.single(new int[] {3}, new int[] {4}, 1));
            RewardTrainingSettings settings = RewardTrainingSettings.from(ConfigFactory
                    .parseString("rlhf.reward-model.margin-per-strength = 0.25")
                    .withFallback(ConfigFactory.load()));
            NDArray chosen = manager.create(new float[] {2f, 0f});
            NDArray rejected = manager.create(new float[] {1f, 1f});

            float loss = BradleyTerryLoss.loss(chosen, rejected, VoteTable.of(pairs, settings, manager)).getFloat();

            // each vote alone: gap 1 minus 0, gap 1 minus 0.5, reversed gap -1 minus 0.25; pair 1: gap -1
            double expected = (softplus(-1) + softplus(-0.5) + softplus(1.25) + softplus(1)) / 4;
            assertEquals(expected, loss, 1e-6, "the mean over votes, padding not counted");
        }
    }
}
