package dev.rlhf.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GRPO and RLOO through the same loop as PPO (rollout workers, scorer, iterated reward models, checkpoints): on a
 * small SFT policy each raises the gold reward over the SFT policy's on held-out prompts, and each logs its own
 * diagnostics.
 */
class GroupAlgorithmsEndToEndTest {
    @TempDir static Path shared;
    private static Path sft;

    @BeforeAll
    static void bootstrap() throws IOException {
        sft = TinyExperiments.bootstrapLearningPolicy(shared.resolve("sft"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"grpo", "rloo"})
    void tunedPolicyGainsGoldRewardOverTheSftPolicy(String algorithm) throws Exception {
        // setup
        Path run = shared.resolve(algorithm);
        Config config = ConfigFactory.parseMap(Map.ofEntries(
                        Map.entry("rlhf.algorithm", algorithm),
                        Map.entry("rlhf.experiment.run-dir", run.toString()),
                        Map.entry("rlhf.experiment.iterations", 30),
                        Map.entry("rlhf.experiment.prompts-per-iteration", 64),
                        Map.entry("rlhf.experiment.evaluation.prompts", 256),
                        Map.entry("rlhf.experiment.reward.comparisons", 400),
                        Map.entry("rlhf.experiment.reward.dataset-comparisons", 400),
                        Map.entry("rlhf.experiment.iterated.pairs-per-iteration", 8),
                        Map.entry("rlhf.experiment.iterated.retrain-after", 240),
                        Map.entry("rlhf.experiment.checkpoint-every", 15),
                        Map.entry("rlhf.reward-model.max-epochs", 4),
                        // one pass of 4 steps per batch (PPO takes 16): a tiny policy in 30 iterations needs
                        // larger steps to move clear of run-to-run noise
                        Map.entry("rlhf." + algorithm + ".learning-rate", 5e-4),
                        // this tiny policy's reward model is weak and GRPO at its defaults exploited it (measured,
                        // paired gold gains: +0.06 at the default rate, -0.26 at 5e-4 with KL 10.8): more prompts
                        // per batch (16 groups of 4) and no division by the group's std (Dr. GRPO) gave +0.13 at
                        // KL 6.7; that was one path: the reward model trained on two replicas instead of one
                        // (float rounding alone) took the same settings to KL 10.8, and β 0.1 instead of 0.04
                        // holds GRPO to the budget on both (+0.16 ± 0.08 at KL 4.5 on two replicas)
                        Map.entry("rlhf.grpo.group-size", 4),
                        Map.entry("rlhf.grpo.scaling", "none"),
                        Map.entry("rlhf.grpo.beta", 0.1)))
                .withFallback(ConfigFactory.load());

        // run
        RunSummary summary = new ExperimentRunner(config, sft, TinyExperiments.quiet()).run();

        // verify: same prompts and seeds before and after, so the per-prompt differences are the fair test
        RunSummary.Gold gold = summary.gold().orElseThrow();
        System.out.printf("%s: gold SFT %.3f, tuned %.3f, paired gain %.3f ± %.3f, KL %.2f%n", algorithm,
                gold.sft().mean(), gold.tuned().mean(), gold.gain().mean(), gold.gain().ci95(),
                summary.klFinal().mean());
        assertTrue(gold.gain().mean() > 2 * gold.gain().ci95() / 1.96, String.format(
                "%s: gold reward should rise significantly: SFT %.3f, tuned %.3f, paired gain %.3f ± %.3f", algorithm,
                gold.sft().mean(), gold.tuned().mean(), gold.gain().mean(), gold.gain().ci95()));
        assertTrue(summary.klFinal().mean() < summary.klTarget(), "within the KL budget: " + summary.klFinal());
        List<JsonObject> metrics = TinyExperiments.deterministicMetrics(run);
        assertEquals(30, metrics.size());
        JsonObject last = metrics.get(metrics.size() - 1);
        assertTrue(last.has(algorithm + "/group_reward_std"), "its own diagnostics: " + last.keySet());
        assertTrue(last.has("kl/to_reference"), "the KL every algorithm is held to: " + last.keySet());
        assertFalse(last.has("ppo/value_loss"), "no value head: " + last.keySet());
        if (algorithm.equals("rloo")) {
            assertTrue(last.has("rloo/baseline_mean"), "the leave-one-out baseline: " + last.keySet());
        }
    }
}
