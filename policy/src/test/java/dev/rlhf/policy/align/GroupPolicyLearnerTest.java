package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.FinishReason;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.Generator;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link GroupPolicyLearner} on a tiny random GPT: it learns, deterministically, resumably, without leaking. */
class GroupPolicyLearnerTest {
    private static final GptConfig CONFIG = GptConfig.of(8, 16, 32, 2, 2, -1);
    /** The rewarded token: a completion that holds it scores 1, any other 0. */
    private static final int X = 3;
    private static final int NEW_TOKENS = 4;
    private static final List<int[]> PROMPTS = List.of(new int[] {1, 2}, new int[] {5}, new int[] {7, 0, 6},
            new int[] {4, 4});

    @Test
    void grpoRaisesTheShareOfCompletionsWithTheRewardedToken() {
        assertLearnsTheToyReward(GroupSettings.grpo(config("rlhf.grpo { learning-rate = 3e-3 }")));
    }

    @Test
    void rlooRaisesTheShareOfCompletionsWithTheRewardedToken() {
        assertLearnsTheToyReward(GroupSettings.rloo(config("rlhf.rloo { learning-rate = 3e-3 }")));
    }

    private static void assertLearnsTheToyReward(GroupSettings settings) {
        // setup
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 17);
                GroupPolicyLearner learner = new GroupPolicyLearner(sft, manager, settings)) {
            Generator generator = new Generator(learner.policy(), null);
            double before = shareWithX(generator, 1_000_000L);

            // run
            GroupStats last = null;
            for (int iteration = 0; iteration < 12; iteration++) {
                Batch batch = sample(generator, settings.groupSize(), 1000L * iteration);
                last = learner.learn(batch.prompts(), batch.completions(), batch.scores()).stats();
            }
            double after = shareWithX(generator, 1_000_000L);

            // verify
            assertTrue(after > before + 0.25, settings.algorithm() + ": the share of completions holding the "
                    + "rewarded token should rise clearly: before " + before + ", after " + after);
            assertEquals(12, learner.version());
            assertEquals(settings.minibatches(), last.minibatchesRun());
            assertTrue(last.klToReference() != 0 && Double.isFinite(last.gradNorm()), "stats: " + last);
            Map<String, Double> scalars = last.scalars();
            String prefix = settings.algorithm().metricPrefix();
            assertTrue(scalars.containsKey(prefix + "/group_reward_std"), scalars.toString());
            assertTrue(scalars.containsKey("policy/loss") && scalars.containsKey("kl/to_reference")
                    && scalars.containsKey("policy/clip_fraction"), scalars.toString());
            assertEquals(settings.algorithm() == GroupSettings.Algorithm.RLOO,
                    scalars.containsKey("rloo/baseline_mean"), scalars.toString());
        }
    }

    @Test
    void twoLearnersGiveBitIdenticalWeightsFromTheSameInputs() {
        // setup
        GroupSettings settings = GroupSettings.grpo(config("rlhf.grpo { epochs = 2 }"));
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 23);
                GroupPolicyLearner first = new GroupPolicyLearner(sft, manager, settings);
                GroupPolicyLearner second = new GroupPolicyLearner(sft, manager, settings)) {
            Batch one = randomBatch(settings.groupSize(), 2, new SplittableRandom(24));
            Batch two = randomBatch(settings.groupSize(), 2, new SplittableRandom(25));

            // run
            first.learn(one.prompts(), one.completions(), one.scores());
            WeightsSnapshot a = first.learn(two.prompts(), two.completions(), two.scores()).snapshot();
            second.learn(one.prompts(), one.completions(), one.scores());
            WeightsSnapshot b = second.learn(two.prompts(), two.completions(), two.scores()).snapshot();

            // verify
            assertEquals(a.version(), b.version());
            assertFalse(java.util.Arrays.equals(flat(first.initialSnapshot()), flat(WeightsSnapshot.of(sft, 0))),
                    "the learner has moved off the SFT weights");
            assertArrayEquals(flat(a), flat(b), "weights after two updates of two learners on the same inputs");
        }
    }

    @Test
    void aResumedLearnerMakesTheUninterruptedNextUpdate() {
        // setup
        GroupSettings settings = GroupSettings.rloo(config("rlhf.rloo { epochs = 2 }"));
        try (NDManager manager = NDManager.newBaseManager();
                NDManager checkpoint = manager.newSubManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 31);
                GroupPolicyLearner uninterrupted = new GroupPolicyLearner(sft, manager, settings)) {
            Batch one = randomBatch(settings.groupSize(), 3, new SplittableRandom(32));
            Batch two = randomBatch(settings.groupSize(), 3, new SplittableRandom(33));
            uninterrupted.learn(one.prompts(), one.completions(), one.scores());
            GptWeights trained = uninterrupted.policy().weights().copy(manager);
            Map<String, NDArray> moments = new LinkedHashMap<>();
            uninterrupted.optimizer().state().forEach((name, moment) -> {
                NDArray copy = moment.duplicate();
                copy.attach(checkpoint);
                moments.put(name, copy);
            });
            GroupPolicyLearner.Saved saved = new GroupPolicyLearner.Saved(
                    uninterrupted.version(), uninterrupted.optimizer().steps(), moments);

            // run
            GroupPolicyLearner.Update expected = uninterrupted.learn(two.prompts(), two.completions(), two.scores());
            GroupPolicyLearner.Update actual;
            try (GroupPolicyLearner resumed = GroupPolicyLearner.resume(sft, trained, manager, settings, saved)) {
                actual = resumed.learn(two.prompts(), two.completions(), two.scores());
            }

            // verify
            assertEquals(2, actual.snapshot().version());
            assertEquals(expected.stats(), actual.stats());
            assertArrayEquals(flat(expected.snapshot()), flat(actual.snapshot()),
                    "weights after the update following a resume");
        }
    }

    @Test
    void aBatchThatIsNotLaidOutInGroupsIsRejected() {
        // setup
        GroupSettings settings = GroupSettings.rloo(config(""));
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 41);
                GroupPolicyLearner learner = new GroupPolicyLearner(sft, manager, settings)) {
            Batch batch = randomBatch(settings.groupSize(), 2, new SplittableRandom(42));
            List<int[]> mixed = new ArrayList<>(batch.prompts());
            mixed.set(5, new int[] {6, 6, 6});

            // run
            IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
                    () -> learner.learn(batch.prompts().subList(0, 6), batch.completions().subList(0, 6),
                            java.util.Arrays.copyOf(batch.scores(), 6)));
            IllegalArgumentException differing = assertThrows(IllegalArgumentException.class,
                    () -> learner.learn(mixed, batch.completions(), batch.scores()));

            // verify
            assertTrue(ragged.getMessage().contains("not a positive multiple of the group size 4"),
                    ragged.getMessage());
            assertTrue(differing.getMessage().contains("group 1 (completions 4..7) must share one prompt")
                    && differing.getMessage().contains("completion 5"), differing.getMessage());
            assertEquals(0, learner.version(), "a rejected batch is no update");
        }
    }

    @Test
    void learnLeavesNoArraysBehindInTheParentManager() {
        // setup
        GroupSettings settings = GroupSettings.grpo(config("rlhf.grpo { epochs = 2 }"));
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights sft = GptWeights.random(CONFIG, false, manager, 51)) {
            int withoutLearner = arrays(manager);
            try (GroupPolicyLearner learner = new GroupPolicyLearner(sft, manager, settings)) {
                SplittableRandom random = new SplittableRandom(52);
                Batch first = randomBatch(settings.groupSize(), 2, random);
                learner.learn(first.prompts(), first.completions(), first.scores()); // gradients are allocated here
                int afterFirst = arrays(manager);
                assertTrue(afterFirst > withoutLearner, "the count reaches into the learner's sub-managers");

                // run
                for (int i = 0; i < 3; i++) {
                    Batch batch = randomBatch(settings.groupSize(), 2, random);
                    learner.learn(batch.prompts(), batch.completions(), batch.scores());
                    learner.klToReference(batch.prompts(), batch.completions());
                }

                // verify
                assertEquals(afterFirst, arrays(manager), "arrays in the parent manager after three more updates");
            }
            assertEquals(withoutLearner, arrays(manager), "arrays in the parent manager once the learner is closed");
        }
    }

    @Test
    void settingsAreReadFromTheirBlocks() {
        // setup
        com.typesafe.config.Config defaults = config("");

        // run
        GroupSettings grpo = GroupSettings.grpo(defaults);
        GroupSettings rloo = GroupSettings.rloo(defaults);
        GroupSettings dapo = GroupSettings.grpo(config(
                "rlhf.grpo { clip-high = 0.28, beta = 0, scaling = none, loss-aggregation = sequence-mean }"));
        IllegalArgumentException badScaling = assertThrows(IllegalArgumentException.class,
                () -> GroupSettings.grpo(config("rlhf.grpo.scaling = std")));
        IllegalArgumentException loneCompletion = assertThrows(IllegalArgumentException.class,
                () -> GroupSettings.rloo(config("rlhf.rloo.group-size = 1")));

        // verify
        assertEquals(GroupSettings.Algorithm.GRPO, grpo.algorithm());
        assertEquals(8, grpo.groupSize());
        assertEquals(0.04, grpo.beta());
        assertEquals(0.2, grpo.clipHigh(), "clip-high null means clip-low");
        assertEquals(GrpoAdvantages.Scaling.GROUP, grpo.scaling());
        assertEquals(GrpoLoss.Aggregation.TOKEN_MEAN, grpo.aggregation());
        assertEquals(1, grpo.epochs());
        assertEquals(GroupSettings.Algorithm.RLOO, rloo.algorithm());
        assertEquals(4, rloo.groupSize());
        assertEquals(0, rloo.beta());
        assertEquals(0.05, rloo.rewardKlCoefficient());
        assertEquals(0.28, dapo.clipHigh());
        assertEquals(0.2, dapo.clipLow());
        assertEquals(GrpoAdvantages.Scaling.NONE, dapo.scaling());
        assertEquals(GrpoLoss.Aggregation.SEQUENCE_MEAN, dapo.aggregation());
        assertTrue(badScaling.getMessage().contains("rlhf.grpo.scaling must be one of group, batch, none"),
                badScaling.getMessage());
        assertTrue(loneCompletion.getMessage().contains("group-size must be at least 2"),
                loneCompletion.getMessage());
    }

    /** One rollout batch: prompts and completions side by side in groups, and their scores. */
    private record Batch(List<int[]> prompts, List<Completion> completions, float[] scores) {}

    /** {@code groupSize} sampled completions for each of {@link #PROMPTS}, scored 1 when they hold {@link #X}. */
    private static Batch sample(Generator generator, int groupSize, long seed) {
        List<int[]> prompts = new ArrayList<>();
        List<GenerationRequest> requests = new ArrayList<>();
        for (int[] prompt : PROMPTS) {
            for (int i = 0; i < groupSize; i++) {
                prompts.add(prompt);
                requests.add(new GenerationRequest(prompt, SamplingParams.sample(NEW_TOKENS, seed + requests.size())));
            }
        }
        List<Completion> completions = generator.generate(requests);
        float[] scores = new float[completions.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = holdsX(completions.get(i)) ? 1 : 0;
        }
        return new Batch(prompts, completions, scores);
    }

    /** The share of 32 samples per prompt, seeded from {@code seed}, that hold {@link #X}. */
    private static double shareWithX(Generator generator, long seed) {
        List<Completion> completions = sample(generator, 32, seed).completions();
        return completions.stream().filter(GroupPolicyLearnerTest::holdsX).count() / (double) completions.size();
    }

    private static boolean holdsX(Completion completion) {
        for (int token : completion.tokenIds()) {
            if (token == X) {
                return true;
            }
        }
        return false;
    }

    /** {@code groups} random prompts with {@code groupSize} random completions each, of random length and score. */
    private static Batch randomBatch(int groupSize, int groups, SplittableRandom random) {
        List<int[]> prompts = new ArrayList<>();
        List<Completion> completions = new ArrayList<>();
        float[] scores = new float[groupSize * groups];
        for (int g = 0; g < groups; g++) {
            int[] prompt = random.ints(1 + random.nextInt(3), 0, CONFIG.vocabSize()).toArray();
            for (int i = 0; i < groupSize; i++) {
                int[] tokens = random.ints(1 + random.nextInt(5), 0, CONFIG.vocabSize()).toArray();
                prompts.add(prompt);
                completions.add(new Completion(tokens, new float[tokens.length], FinishReason.LENGTH, ""));
                scores[completions.size() - 1] = (float) random.nextDouble(-1, 1);
            }
        }
        return new Batch(prompts, completions, scores);
    }

    private static float[] flat(WeightsSnapshot snapshot) {
        int size = snapshot.tensors().values().stream().mapToInt(t -> t.length).sum();
        float[] out = new float[size];
        int offset = 0;
        for (float[] tensor : snapshot.tensors().values()) {
            System.arraycopy(tensor, 0, out, offset, tensor.length);
            offset += tensor.length;
        }
        return out;
    }

    private static int arrays(NDManager manager) {
        return ((BaseNDManager) manager).getManagedArrays().size();
    }

    private static com.typesafe.config.Config config(String overrides) {
        return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load());
    }
}
