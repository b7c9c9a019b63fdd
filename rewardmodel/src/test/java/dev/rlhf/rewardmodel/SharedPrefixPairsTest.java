package dev.rlhf.rewardmodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.model.AttentionBias;
import dev.rlhf.policy.train.Gradients;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

class SharedPrefixPairsTest {
    private static final float M = AttentionBias.MASKED;

    @Test
    void rejectedContinuationFollowsTheChosenSequenceAndSeesOnlyThePrefixAndItself() {
        try (NDManager manager = NDManager.newBaseManager()) {
            SharedPrefixPairs packed = SharedPrefixPairs.pack(List.of(
                    PreferenceExample.single(new int[] {1, 2, 3, 4}, new int[] {1, 2, 5}, 1),
                    PreferenceExample.single(new int[] {6}, new int[] {7, 8}, 1)), manager);

            // row 0: prefix [1, 2], chosen continuation [3, 4], rejected continuation [5]; row 1: nothing shared
            assertArrayEquals(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, packed.tokenIds().toLongArray());
            assertArrayEquals(new long[] {0, 1, 2, 3, 2, 0, 0, 1, 0, 0}, packed.layout().positions());
            assertArrayEquals(new long[] {3, 4, 0, 2}, packed.ends());
            float[] row0 = java.util.Arrays.copyOfRange(packed.layout().bias(), 0, 25);
            assertArrayEquals(new float[] {
                0, M, M, M, M,
                0, 0, M, M, M,
                0, 0, 0, M, M,
                0, 0, 0, 0, M,
                0, 0, M, M, 0}, row0);
            float[] row1 = java.util.Arrays.copyOfRange(packed.layout().bias(), 25, 50);
            assertArrayEquals(new float[] {
                0, M, M, M, M,
                M, 0, M, M, M,
                M, 0, 0, M, M,
                M, M, M, M, M,
                M, M, M, M, M}, row1);
        }
    }

    @Test
    void sharedPrefixLeavesEachSequenceALastTokenOfItsOwn() {
        assertEquals(0, SharedPrefixPairs.sharedPrefix(new int[] {1, 2}, new int[] {3, 2}));
        assertEquals(2, SharedPrefixPairs.sharedPrefix(new int[] {1, 2, 3}, new int[] {1, 2, 4, 5}));
        assertEquals(2, SharedPrefixPairs.sharedPrefix(new int[] {1, 2, 3}, new int[] {1, 2, 3}));
        assertEquals(1, SharedPrefixPairs.sharedPrefix(new int[] {1, 2}, new int[] {1, 2, 3, 4}));
        assertEquals(0, SharedPrefixPairs.sharedPrefix(new int[] {1}, new int[] {1, 2}));
    }

    @Test
    void packedPairsGiveTheScoresAndGradientsOfTheSequencesScoredApart() {
        List<PreferenceExample> pairs = List.of(
                PreferenceExample.single(new int[] {4, 9, 2, 7, 7, 1}, new int[] {4, 9, 2, 3}, 1),
                PreferenceExample.single(new int[] {5, 5, 5}, new int[] {8, 1, 2, 3, 4, 6, 9}, 2),
                PreferenceExample.single(new int[] {3, 1, 4}, new int[] {3, 1, 4}, 1),
                PreferenceExample.single(new int[] {2, 7}, new int[] {2, 7, 1, 8, 2, 8}, 3));
        RewardTrainingSettings settings = RewardTrainingSettings.from(ConfigFactory.load());

        Result packed = lossAndGradients(pairs, settings, (model, manager) ->
                model.pairScores(SharedPrefixPairs.pack(pairs, manager)).transpose().reshape(-1));
        Result apart = lossAndGradients(pairs, settings, (model, manager) -> {
            List<int[]> sequences = new ArrayList<>();
            pairs.forEach(p -> sequences.add(p.chosen()));
            pairs.forEach(p -> sequences.add(p.rejected()));
            TokenBatch batch = TokenBatch.rightPadded(sequences, manager);
            return model.scores(batch.tokenIds(), batch.attentionMask());
        });

        assertArrayEquals(apart.scores, packed.scores, 1e-5f, "chosen then rejected scores");
        assertEquals(apart.loss, packed.loss, 1e-6f);
        assertEquals(apart.gradients.keySet(), packed.gradients.keySet());
        apart.gradients.forEach((name, expected) ->
                assertArrayEquals(expected, packed.gradients.get(name), 1e-5f, "gradient of " + name));
    }

    private record Result(float[] scores, float loss, Map<String, float[]> gradients) {}

    /** Scores, Bradley–Terry loss and the weights' gradients of a fresh model (the same for every call). */
    private static Result lossAndGradients(List<PreferenceExample> pairs, RewardTrainingSettings settings,
            BiFunction<RewardModel, NDManager, NDArray> scoring) {
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = TinyRewardModels.withRandomHead(TinyRewardModels.config(16), manager, 11);
                GradientCollector collector = Gradients.collect()) {
            model.weights().tensors().values().forEach(weight -> weight.setRequiresGradient(true));
            NDArray scores = scoring.apply(model, manager);
            NDArray loss = BradleyTerryLoss.loss(scores.get("0:{}", pairs.size()), scores.get("{}:", pairs.size()),
                    VoteTable.of(pairs, settings, manager));
            collector.backward(loss);
            Map<String, float[]> gradients = new LinkedHashMap<>();
            model.weights().tensors().forEach((name, weight) ->
                    gradients.put(name, weight.getGradient().toFloatArray()));
            return new Result(scores.toFloatArray(), loss.getFloat(), gradients);
        }
    }
}
