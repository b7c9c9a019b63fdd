package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.model.GarbageCollectorPressure;
import dev.rlhf.policy.model.GptModel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PpoUpdaterTest {
    /** The rewarded token: a response earns +1 per occurrence of it and -1 per other token, divided by its length. */
    private static final int REWARDED = 3;

    @Test
    void updatesOnASyntheticRewardRaiseTheLikelihoodOfTheRewardedToken() {
        PpoSettings settings = settings("rlhf.ppo { learning-rate = 1e-3, early-stop-approx-kl = 0 }");
        try (NDManager manager = NDManager.newBaseManager();
                GptModel policy = TinyPolicies.withValueHead(manager, 11);
                GptModel reference = new GptModel(policy.weights().copy(manager));
                PpoUpdater updater = new PpoUpdater(policy, settings, KlController.create(settings.kl()))) {
            RolloutScorer scorer = new RolloutScorer(policy, reference, 16);
            SplittableRandom random = new SplittableRandom(12);
            RolloutSequences probe = TinyPolicies.randomBatch(16, 4, 6, new SplittableRandom(99));
            double before = meanLogProbOfRewarded(policy, probe);

            PpoStats last = null;
            for (int iteration = 0; iteration < 4; iteration++) {
                RolloutSequences batch = TinyPolicies.randomBatch(16, 4, 6, random);
                last = updater.update(scorer.score(batch, scores(batch)));
            }

            double after = meanLogProbOfRewarded(policy, probe);
            assertTrue(after > before + 0.3,
                    "log π(rewarded token) should rise: before " + before + ", after " + after);
            assertEquals(4, last.epochsRun());
            assertEquals(8, last.minibatchesRun());
            assertTrue(last.klToReference() != 0, "the policy has drifted from its reference");
            assertTrue(last.approxKl() > 0 && last.gradNorm() > 0, "stats are reported: " + last);
        }
    }

    @Test
    void nativeMemoryOfTheModelStaysFlatAcrossUpdates() {
        PpoSettings settings = settings("rlhf.ppo { early-stop-approx-kl = 0 }");
        try (NDManager manager = NDManager.newBaseManager();
                GptModel policy = TinyPolicies.withValueHead(manager, 21);
                GptModel reference = new GptModel(policy.weights().copy(manager));
                PpoUpdater updater = new PpoUpdater(policy, settings, KlController.create(settings.kl()))) {
            RolloutScorer scorer = new RolloutScorer(policy, reference, 4);
            SplittableRandom random = new SplittableRandom(22);
            updater.update(scorer.score(TinyPolicies.randomBatch(8, 4, 6, random), new float[8]));
            int afterFirst = managedArrays(policy);

            for (int i = 0; i < 5; i++) {
                RolloutSequences batch = TinyPolicies.randomBatch(8, 4, 6, random);
                updater.update(scorer.score(batch, scores(batch)));
            }

            assertEquals(afterFirst, managedArrays(policy), "arrays held by the model's manager after 40 more minibatches");
        }
    }

    @Test
    void anEpochAboveTheApproxKlBoundEndsTheUpdate() {
        PpoSettings settings = settings("rlhf.ppo { learning-rate = 1e-2, early-stop-approx-kl = 1e-9 }");
        try (NDManager manager = NDManager.newBaseManager();
                GptModel policy = TinyPolicies.withValueHead(manager, 31);
                GptModel reference = new GptModel(policy.weights().copy(manager));
                PpoUpdater updater = new PpoUpdater(policy, settings, KlController.create(settings.kl()))) {
            RolloutSequences batch = TinyPolicies.randomBatch(8, 4, 6, new SplittableRandom(32));

            PpoStats stats = updater.update(new RolloutScorer(policy, reference, 8).score(batch, scores(batch)));

            assertEquals(1, stats.epochsRun());
            assertEquals(2, stats.minibatchesRun());
        }
    }

    @Test
    void updatesAreBitIdenticalWhileTheGarbageCollectorRunsConstantly() throws InterruptedException {
        float[] quiet = weightsAfterUpdates();
        float[] collected;
        try (GarbageCollectorPressure pressure = GarbageCollectorPressure.start()) {
            collected = weightsAfterUpdates();
        }
        assertArrayEquals(quiet, collected, "weights after three updates, with and without garbage collections");
    }

    /** Every weight of a tiny policy after three updates, failing on a skipped (non-finite) step. */
    private static float[] weightsAfterUpdates() {
        PpoSettings settings = settings("rlhf.ppo { early-stop-approx-kl = 0 }");
        try (NDManager manager = NDManager.newBaseManager();
                GptModel policy = TinyPolicies.withValueHead(manager, 41);
                GptModel reference = new GptModel(policy.weights().copy(manager));
                PpoUpdater updater = new PpoUpdater(policy, settings, KlController.create(settings.kl()))) {
            RolloutScorer scorer = new RolloutScorer(policy, reference, 16);
            SplittableRandom random = new SplittableRandom(42);
            for (int update = 0; update < 3; update++) {
                RolloutSequences batch = TinyPolicies.randomBatch(16, 4, 6, random);
                PpoStats stats = updater.update(scorer.score(batch, scores(batch)));
                assertTrue(Double.isFinite(stats.gradNorm()), "update " + update + " gradient norm " + stats);
            }
            NDList flattened = new NDList();
            policy.weights().tensors().values().forEach(tensor -> flattened.add(tensor.flatten()));
            return NDArrays.concat(flattened).toFloatArray();
        }
    }

    private static PpoSettings settings(String overrides) {
        return PpoSettings.from(ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load()));
    }

    private static float[] scores(RolloutSequences batch) {
        float[] scores = new float[batch.batch()];
        for (int b = 0; b < batch.batch(); b++) {
            int tokens = batch.responseTokens(b);
            int base = b * batch.length() + batch.promptLength();
            for (int r = 0; r < tokens; r++) {
                scores[b] += batch.tokenIds()[base + r] == REWARDED ? 1 : -1;
            }
            scores[b] /= tokens;
        }
        return scores;
    }

    /** Mean over real response positions of log π(REWARDED | context). */
    private static double meanLogProbOfRewarded(GptModel policy, RolloutSequences batch) {
        try (NDManager manager = policy.weights().manager().newSubManager()) {
            Shape shape = new Shape(batch.batch(), batch.length());
            ResponseForward forward = ResponseForward.run(policy, manager.create(batch.tokenIds(), shape),
                    manager.create(batch.attentionMask(), shape), batch.promptLength(), false);
            NDArray rewarded = forward.logSoftmax().get(":, :, {}", REWARDED);
            NDArray mask = manager.create(batch.responseMask(), new Shape(batch.batch(), batch.responseLength()));
            return rewarded.mul(mask).sum().getFloat() / mask.sum().getFloat();
        }
    }

    private static int managedArrays(GptModel policy) {
        return ((BaseNDManager) policy.weights().manager()).getManagedArrays().size();
    }
}
