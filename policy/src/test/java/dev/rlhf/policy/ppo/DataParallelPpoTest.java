package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.train.Replicas;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * PPO on two data-parallel replicas: the gradient of a minibatch is the one-replica gradient up to float rounding,
 * two runs give the same floats, scoring does not depend on the replica count, and a replica that breaks fails the
 * update naming it.
 */
class DataParallelPpoTest {
    /**
     * How far a two-replica gradient entry may be from the one-replica one, relative to the largest entry of that
     * tensor's gradient: the shares' sums and the row-blocked matrix products round differently, which measured
     * about 1e-7 here; a mistake in the split or the normalisation shows as a difference of order 1.
     */
    private static final double GRADIENT_TOLERANCE = 1e-5;

    @Test
    void twoReplicasGiveTheOneReplicaGradientOfAMinibatchWithinFloatRounding() {
        // one minibatch, one epoch and no clipping: after the first AdamW step the first moment is 0.1 × gradient
        PpoSettings settings = settings(
                "rlhf.ppo { epochs = 1, minibatches = 1, max-grad-norm = 0, early-stop-approx-kl = 0 }");
        try (NDManager manager = NDManager.newBaseManager();
                GptModel one = TinyPolicies.withValueHead(manager, 51);
                GptModel two = new GptModel(one.weights().copy(manager));
                GptModel reference = new GptModel(one.weights().copy(manager));
                Replicas<GptModel> single = Replicas.of(one, GptModel::weights, GptModel::new, 1);
                Replicas<GptModel> pair = Replicas.of(two, GptModel::weights, GptModel::new, 2);
                PpoUpdater onOne = new PpoUpdater(single, settings, KlController.create(settings.kl()), 0);
                PpoUpdater onTwo = new PpoUpdater(pair, settings, KlController.create(settings.kl()), 0)) {
            RolloutSequences batch = TinyPolicies.randomBatch(15, 4, 6, new SplittableRandom(52));
            float[] scores = scores(batch.batch(), 53);
            Experience experience = new RolloutScorer(single, reference, 4).score(batch, scores);
            Experience scoredOnTwo = new RolloutScorer(pair, reference, 4).score(batch, scores);
            assertArrayEquals(experience.logprobs(), scoredOnTwo.logprobs(), "scoring is chunk by chunk, exactly");
            assertArrayEquals(experience.values(), scoredOnTwo.values());
            assertArrayEquals(experience.refLogprobs(), scoredOnTwo.refLogprobs());

            PpoStats statsOne = onOne.update(experience);
            PpoStats statsTwo = onTwo.update(scoredOnTwo);

            Map<String, NDArray> momentsOne = onOne.optimizer().state();
            Map<String, NDArray> momentsTwo = onTwo.optimizer().state();
            for (String name : one.weights().tensors().keySet()) {
                float[] expected = momentsOne.get("m." + name).toFloatArray();
                float[] actual = momentsTwo.get("m." + name).toFloatArray();
                double scale = maxAbs(expected);
                assertTrue(scale > 0, name + " has a gradient");
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], actual[i], GRADIENT_TOLERANCE * scale, name + "[" + i + "]");
                }
            }
            assertEquals(statsOne.policyLoss(), statsTwo.policyLoss(), 1e-6);
            assertEquals(statsOne.valueLoss(), statsTwo.valueLoss(), 1e-6);
            assertEquals(statsOne.gradNorm(), statsTwo.gradNorm(), 1e-5 * statsOne.gradNorm());
        }
    }

    @Test
    void runsOnTwoReplicasAreBitIdenticalAndKeepTheCopiesInStep() {
        PpoSettings settings = settings("rlhf.ppo { early-stop-approx-kl = 0 }");
        List<GptModel> copies = new ArrayList<>();
        float[] first = trainOnTwoReplicas(settings, copies);
        float[] second = trainOnTwoReplicas(settings, new ArrayList<>());

        assertArrayEquals(first, second, "two runs on two replicas");
    }

    /**
     * Three updates on two replicas; returns the master's weights, after checking the copy takes the same before its
     * next task.
     */
    private static float[] trainOnTwoReplicas(PpoSettings settings, List<GptModel> copies) {
        try (NDManager manager = NDManager.newBaseManager();
                GptModel policy = TinyPolicies.withValueHead(manager, 61);
                GptModel reference = new GptModel(policy.weights().copy(manager));
                Replicas<GptModel> replicas = Replicas.of(policy, GptModel::weights, w -> remember(w, copies), 2);
                PpoUpdater updater = new PpoUpdater(replicas, settings, KlController.create(settings.kl()), 0)) {
            RolloutScorer scorer = new RolloutScorer(replicas, reference, 4);
            SplittableRandom random = new SplittableRandom(62);
            for (int update = 0; update < 3; update++) {
                RolloutSequences batch = TinyPolicies.randomBatch(16, 4, 6, random);
                updater.update(scorer.score(batch, scores(batch.batch(), update)));
            }
            float[] master = flatten(policy.weights());
            scorer.score(TinyPolicies.randomBatch(8, 4, 6, random), new float[8]); // the copy's next task
            assertArrayEquals(master, flatten(copies.get(0).weights()), "the copy took the master's weights");
            return master;
        }
    }

    @Test
    void aReplicaWhoseNativeMemoryIsFreedFailsTheUpdateNamingIt() {
        PpoSettings settings = settings("rlhf.ppo { early-stop-approx-kl = 0 }");
        List<GptModel> copies = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager();
                GptModel policy = TinyPolicies.withValueHead(manager, 71);
                GptModel reference = new GptModel(policy.weights().copy(manager));
                Replicas<GptModel> replicas = Replicas.of(policy, GptModel::weights, w -> remember(w, copies), 2);
                PpoUpdater updater = new PpoUpdater(replicas, settings, KlController.create(settings.kl()), 0)) {
            RolloutSequences batch = TinyPolicies.randomBatch(16, 4, 6, new SplittableRandom(72));
            Experience experience = new RolloutScorer(policy, reference, 4).score(batch, scores(16, 73));
            copies.get(0).close();

            Replicas.ReplicaFailedException failure =
                    assertThrows(Replicas.ReplicaFailedException.class, () -> updater.update(experience));

            assertTrue(failure.getMessage().startsWith("learner replica 1 failed: "), failure.getMessage());
        }
    }

    private static GptModel remember(GptWeights weights, List<GptModel> copies) {
        GptModel model = new GptModel(weights);
        copies.add(model);
        return model;
    }

    private static float[] flatten(GptWeights weights) {
        List<Float> values = new ArrayList<>();
        weights.tensors().values().forEach(t -> {
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

    private static float[] scores(int batch, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] scores = new float[batch];
        for (int i = 0; i < batch; i++) {
            scores[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return scores;
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    private static PpoSettings settings(String overrides) {
        return PpoSettings.from(ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load()));
    }
}
