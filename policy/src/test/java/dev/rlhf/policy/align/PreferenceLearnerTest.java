package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.train.Gradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PreferenceLearnerTest {
    private static final GptConfig CONFIG = GptConfig.of(16, 16, 32, 2, 2, -1);
    /** The preferred token: a chosen response has it where the rejected one has {@link #DISPREFERRED}. */
    private static final int PREFERRED = 1;
    private static final int DISPREFERRED = 2;
    /** Other tokens are drawn from [FILLER, vocab). */
    private static final int FILLER = 3;

    @Test
    void dpoLearnsToPreferTheChosenTokenOnHeldOutPairs() {
        learnsToPreferTheChosenToken(dpo("learning-rate = 3e-4, batch-size = 8"), 6);
    }

    @Test
    void ipoLearnsToPreferTheChosenTokenOnHeldOutPairs() {
        learnsToPreferTheChosenToken(ipo("learning-rate = 3e-4, batch-size = 8"), 6);
    }

    private static void learnsToPreferTheChosenToken(DpoSettings settings, int epochs) {
        // setup
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 41);
                PreferenceLearner learner = new PreferenceLearner(sft, manager, settings)) {
            List<PreferencePair> train = pairs(64, new SplittableRandom(42));
            List<PreferencePair> heldOut = pairs(32, new SplittableRandom(43));
            PreferenceStats before = learner.evaluate(heldOut);
            int preferredBefore = greedyCount(learner.policy(), heldOut, PREFERRED);
            double logprobBefore = meanFirstTokenLogprob(learner.policy(), heldOut, PREFERRED);

            // run
            PreferenceStats last = null;
            for (int epoch = 0; epoch < epochs; epoch++) {
                last = learner.trainEpoch(train, epoch);
            }
            PreferenceStats after = learner.evaluate(heldOut);
            int preferredAfter = greedyCount(learner.policy(), heldOut, PREFERRED);
            double logprobAfter = meanFirstTokenLogprob(learner.policy(), heldOut, PREFERRED);

            // verify
            System.out.printf("%s: held-out before %s%n  last epoch %s%n  held-out after %s%n  greedy '%d' %d -> %d,"
                    + " log π('%d' first) %.3f -> %.3f%n", settings.objective(), before, last, after, PREFERRED,
                    preferredBefore, preferredAfter, PREFERRED, logprobBefore, logprobAfter);
            assertEquals(0.0, before.accuracy(), "policy == reference: every reward is 0, a tie counts as wrong");
            assertTrue(after.accuracy() >= 0.9, "held-out reward accuracy " + after.accuracy());
            assertTrue(after.margin() > 0 && after.loss() < before.loss(), "held-out " + before + " -> " + after);
            assertTrue(preferredAfter > preferredBefore,
                    "greedy completions hold the preferred token " + preferredBefore + " -> " + preferredAfter);
            assertTrue(logprobAfter > logprobBefore + 0.5, logprobBefore + " -> " + logprobAfter);
            assertEquals(epochs, learner.version());
            assertEquals(epochs * 8, learner.optimizer().steps());
            assertEquals(settings.objective().prefix() + "/reward_accuracy",
                    after.scalars().keySet().stream().filter(k -> k.endsWith("accuracy")).findFirst().orElseThrow());
        }
    }

    @Test
    void theFirstStepsLossIsLn2ForDpoAndTheSquaredTargetForIpo() {
        // setup
        List<PreferencePair> pairs = pairs(8, new SplittableRandom(51));
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 52);
                PreferenceLearner dpo = new PreferenceLearner(sft, manager, dpo("batch-size = 8"));
                PreferenceLearner ipo = new PreferenceLearner(sft, manager, ipo("batch-size = 8, beta = 0.5"))) {
            // run
            PreferenceStats dpoStats = dpo.trainEpoch(pairs, 0);
            PreferenceStats ipoStats = ipo.trainEpoch(pairs, 0);

            // verify: one minibatch, measured before its step, with policy == reference so Δ = 0
            assertEquals(1, dpoStats.steps());
            assertEquals(Math.log(2), dpoStats.loss(), 1e-6);
            assertEquals(1.0, ipoStats.loss(), 1e-6, "(0 - 1/(2β))² at β = 0.5");
            assertEquals(0.0, dpoStats.margin(), 1e-6);
            assertEquals(0.0, dpoStats.accuracy());
            assertTrue(dpoStats.gradNorm() > 0);
        }
    }

    @Test
    void theReferenceRunsOncePerDistinctPair() {
        // setup
        List<PreferencePair> pairs = pairs(20, new SplittableRandom(61));
        List<PreferencePair> rebuilt = pairs.stream()
                .map(p -> new PreferencePair(p.prompt(), p.chosen(), p.rejected())).toList();
        List<PreferencePair> withDuplicate = new ArrayList<>(pairs);
        withDuplicate.add(rebuilt.get(3));
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 62);
                PreferenceLearner learner = new PreferenceLearner(sft, manager, dpo("forward-batch-size = 6"))) {
            // run
            for (int epoch = 0; epoch < 3; epoch++) {
                learner.trainEpoch(withDuplicate, epoch);
            }
            learner.evaluate(rebuilt);
            long forwarded = learner.referencePairsForwarded();
            learner.releaseReference();
            PreferenceStats afterRelease = learner.evaluate(pairs);

            // verify
            assertEquals(20, forwarded, "once per distinct pair, over 3 epochs and an evaluation of equal pairs");
            assertFalse(learner.holdsReference());
            assertEquals(20, afterRelease.pairs());
            List<PreferencePair> unseen = pairs(1, new SplittableRandom(63));
            assertThrows(IllegalStateException.class, () -> learner.evaluate(unseen));
        }
    }

    @Test
    void aPairsLossDoesNotDependOnWhatItIsBatchedWith() {
        // setup: a short pair and one with a longer prompt and longer responses; the policy trained away from the
        // reference first, so the losses are not all ln 2
        PreferencePair shortPair = new PreferencePair(new int[] {5}, new int[] {PREFERRED, 7}, new int[] {9});
        PreferencePair longPair = new PreferencePair(new int[] {4, 6, 8, 10}, new int[] {11, 12, PREFERRED, 13, 14},
                new int[] {11, 12, DISPREFERRED, 13, 14, 15});
        List<PreferencePair> train = pairs(32, new SplittableRandom(71));
        DpoSettings settings = dpo("learning-rate = 1e-3, batch-size = 8");
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 72);
                PreferenceLearner alone = new PreferenceLearner(sft, manager, settings);
                PreferenceLearner together = new PreferenceLearner(sft, manager, settings)) {
            alone.cacheReference(List.of(shortPair)); // its reference log-probs computed without padding
            together.cacheReference(List.of(shortPair, longPair)); // padded to the long pair's layout
            alone.trainEpoch(train, 0);
            together.trainEpoch(train, 0);

            // run
            PreferenceStats shortAlone = alone.evaluate(List.of(shortPair));
            PreferenceStats longAlone = alone.evaluate(List.of(longPair));
            PreferenceStats both = alone.evaluate(List.of(shortPair, longPair));
            PreferenceStats shortWithLongReference = together.evaluate(List.of(shortPair));

            // verify
            assertArrayEquals(floats(alone.snapshot()), floats(together.snapshot()), "same training");
            assertTrue(Math.abs(shortAlone.loss() - Math.log(2)) > 1e-3, "trained away from the reference");
            assertEquals((shortAlone.loss() + longAlone.loss()) / 2, both.loss(), 1e-5);
            assertEquals((shortAlone.chosenReward() + longAlone.chosenReward()) / 2, both.chosenReward(), 1e-5);
            assertEquals((shortAlone.rejectedReward() + longAlone.rejectedReward()) / 2, both.rejectedReward(), 1e-5);
            assertEquals(shortAlone.loss(), shortWithLongReference.loss(), 1e-5);
            assertEquals(shortAlone.chosenReward(), shortWithLongReference.chosenReward(), 1e-5);
        }
    }

    @Test
    void twoLearnersWithTheSameDataAndSeedTrainBitIdenticalWeights() {
        // setup
        List<PreferencePair> pairs = pairs(24, new SplittableRandom(81));
        DpoSettings settings = dpo("batch-size = 5");
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 82);
                PreferenceLearner first = new PreferenceLearner(sft, manager, settings);
                PreferenceLearner second = new PreferenceLearner(sft, manager, settings)) {
            // run
            PreferenceStats a = null;
            PreferenceStats b = null;
            for (int epoch = 0; epoch < 2; epoch++) {
                a = first.trainEpoch(pairs, epoch);
                b = second.trainEpoch(pairs, epoch);
            }

            // verify
            assertEquals(a, b);
            assertEquals(10, first.optimizer().steps(), "5 minibatches of 5, 5, 5, 5 and 4 pairs per epoch");
            assertArrayEquals(floats(first.snapshot()), floats(second.snapshot()));
            assertFalse(Arrays.equals(floats(first.snapshot()), floats(WeightsSnapshot.of(sft, 0))), "it trained");
        }
    }

    @Test
    void aResumedRunEqualsTheUninterruptedOne() {
        // setup
        List<PreferencePair> pairs = pairs(24, new SplittableRandom(91));
        DpoSettings settings = dpo("batch-size = 8, learning-rate = 1e-3");
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 92);
                PreferenceLearner uninterrupted = new PreferenceLearner(sft, manager, settings)) {
            uninterrupted.trainEpoch(pairs, 0);
            PreferenceStats expected = uninterrupted.trainEpoch(pairs, 1);

            // run
            GptWeights trained;
            try (PreferenceLearner interrupted = new PreferenceLearner(sft, manager, settings)) {
                interrupted.trainEpoch(pairs, 0);
                trained = interrupted.policy().weights().copy(manager);
                try (PreferenceLearner resumed = PreferenceLearner.resume(sft, trained, manager, settings,
                        interrupted.saved())) {
                    interrupted.close();
                    PreferenceStats actual = resumed.trainEpoch(pairs, 1);

                    // verify
                    assertEquals(expected, actual);
                    assertEquals(2, resumed.version());
                    assertEquals(uninterrupted.optimizer().steps(), resumed.optimizer().steps());
                    assertArrayEquals(floats(uninterrupted.snapshot()), floats(resumed.snapshot()));
                }
            }
        }
    }

    @Test
    void trainingLeavesNoArraysBehindInTheParentOrThePolicy() {
        // setup
        List<PreferencePair> pairs = pairs(20, new SplittableRandom(101));
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 102)) {
            int parentBefore = managedArrays(manager);
            try (PreferenceLearner learner = new PreferenceLearner(sft, manager, dpo("batch-size = 6"))) {
                learner.trainEpoch(pairs, 0);
                int parentAfterFirst = managedArrays(manager);
                int policyAfterFirst = managedArrays(learner.policy().weights().manager());

                // run
                for (int epoch = 1; epoch < 4; epoch++) {
                    learner.trainEpoch(pairs, epoch);
                }
                learner.evaluate(pairs);

                // verify
                assertEquals(parentAfterFirst, managedArrays(manager), "arrays in the parent manager");
                assertEquals(policyAfterFirst, managedArrays(learner.policy().weights().manager()),
                        "arrays in the policy's manager");
                assertEquals(parentBefore + 4 * 28, parentAfterFirst,
                        "the policy, the reference and the optimiser's two moments, each as many as the weights");
            }
            assertEquals(parentBefore, managedArrays(manager), "after close");
        }
    }

    @Test
    void settingsAreReadFromReferenceConf() {
        // run
        DpoSettings dpo = DpoSettings.dpo(ConfigFactory.load());
        DpoSettings ipo = DpoSettings.ipo(ConfigFactory.load());

        // verify
        assertEquals(DpoSettings.Objective.DPO, dpo.objective());
        assertEquals(0.5, dpo.beta());
        assertEquals(SequenceLogprobs.Reduction.SUM, dpo.reduction());
        assertEquals(DpoSettings.Objective.IPO, ipo.objective());
        assertEquals(SequenceLogprobs.Reduction.MEAN, ipo.reduction());
        assertEquals(0.0, ipo.labelSmoothing());
        assertThrows(IllegalArgumentException.class, () -> dpo("label-smoothing = 0.5"));
        assertThrows(IllegalArgumentException.class, () -> ipo("reduction = median"));
        assertEquals(SequenceLogprobs.Reduction.SUM, ipo("reduction = sum").reduction());
    }

    @Test
    void theHeldOutSplitIsSeededAndKeepsTheOrder() {
        // setup
        List<PreferencePair> pairs = pairs(40, new SplittableRandom(111));

        // run
        PreferenceLearner.Split split = PreferenceLearner.split(pairs, 0.25, 7);

        // verify
        assertEquals(10, split.heldOut().size());
        assertEquals(30, split.train().size());
        assertEquals(split, PreferenceLearner.split(pairs, 0.25, 7));
        List<PreferencePair> train = new ArrayList<>(split.train());
        assertEquals(train.stream().sorted((x, y) -> pairs.indexOf(x) - pairs.indexOf(y)).toList(), train);
        assertTrue(split.heldOut().stream().noneMatch(split.train()::contains));
    }

    /**
     * {@code n} pairs: a prompt of 1 to 3 filler tokens; responses of 2 to 4 tokens, equal but at one position,
     * where the chosen one has {@link #PREFERRED} and the rejected one {@link #DISPREFERRED}.
     */
    private static List<PreferencePair> pairs(int n, SplittableRandom random) {
        List<PreferencePair> pairs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = random.ints(1 + random.nextInt(3), FILLER, CONFIG.vocabSize()).toArray();
            int[] chosen = random.ints(2 + random.nextInt(3), FILLER, CONFIG.vocabSize()).toArray();
            int[] rejected = chosen.clone();
            int at = random.nextInt(chosen.length);
            chosen[at] = PREFERRED;
            rejected[at] = DISPREFERRED;
            pairs.add(new PreferencePair(prompt, chosen, rejected));
        }
        return pairs;
    }

    /** How often {@code token} appears in 4-token greedy completions of the pairs' prompts. */
    private static int greedyCount(GptModel policy, List<PreferencePair> pairs, int token) {
        Gradients.inferenceOnly();
        int count = 0;
        for (PreferencePair pair : pairs) {
            List<Integer> ids = new ArrayList<>();
            for (int id : pair.prompt()) {
                ids.add(id);
            }
            for (int step = 0; step < 4; step++) {
                try (NDManager scope = policy.weights().manager().newSubManager()) {
                    NDArray logits = forward(policy, ids, scope);
                    int next = (int) logits.get(ids.size() - 1).argMax().getLong();
                    ids.add(next);
                    count += next == token ? 1 : 0;
                }
            }
        }
        return count;
    }

    /** Mean log-probability of {@code token} as the first response token after each pair's prompt. */
    private static double meanFirstTokenLogprob(GptModel policy, List<PreferencePair> pairs, int token) {
        Gradients.inferenceOnly();
        double sum = 0;
        for (PreferencePair pair : pairs) {
            try (NDManager scope = policy.weights().manager().newSubManager()) {
                List<Integer> ids = Arrays.stream(pair.prompt()).boxed().toList();
                sum += forward(policy, ids, scope).get(ids.size() - 1).logSoftmax(-1).getFloat(token);
            }
        }
        return sum / pairs.size();
    }

    /** Logits {@code [length, vocab]} of one unpadded sequence. */
    private static NDArray forward(GptModel policy, List<Integer> ids, NDManager scope) {
        long[] tokens = ids.stream().mapToLong(Integer::longValue).toArray();
        long[] mask = new long[tokens.length];
        Arrays.fill(mask, 1);
        Shape shape = new Shape(1, tokens.length);
        return policy.forward(scope.create(tokens, shape), scope.create(mask, shape), false).logits().get(0);
    }

    private static float[] floats(WeightsSnapshot snapshot) {
        return snapshot.tensors().values().stream()
                .reduce(new float[0], (a, b) -> {
                    float[] c = Arrays.copyOf(a, a.length + b.length);
                    System.arraycopy(b, 0, c, a.length, b.length);
                    return c;
                });
    }

    private static int managedArrays(NDManager manager) {
        return ((BaseNDManager) manager).getManagedArrays().size();
    }

    private static DpoSettings dpo(String overrides) {
        return DpoSettings.dpo(ConfigFactory.parseString("rlhf.dpo { " + overrides + " }")
                .withFallback(ConfigFactory.load()));
    }

    private static DpoSettings ipo(String overrides) {
        return DpoSettings.ipo(ConfigFactory.parseString("rlhf.ipo { " + overrides + " }")
                .withFallback(ConfigFactory.load()));
    }
}
