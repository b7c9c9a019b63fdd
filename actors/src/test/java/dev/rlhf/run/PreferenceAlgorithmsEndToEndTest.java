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
 * DPO and IPO through the same loop (rollout workers, scorer, reward model v1 for the metrics, checkpoints): each
 * iteration is one epoch of the judged initial comparisons, and logs its own diagnostics beside the rollout's KL
 * and rewards, and raises the gold reward over the SFT policy's on held-out prompts.
 *
 * <p>The configuration below (6 epochs of the ~2000 judged pairs of 800 comparisons, β 0.5, lr 3e-5, batch 32)
 * measured paired gold gains of +0.103 ± 0.043 (DPO, KL 0.5) and +0.136 ± 0.049 (IPO, KL 1.8), 95% CIs over 512
 * evaluation prompts that no comparison is on; the run is deterministic. With 400 comparisons and 256 evaluation
 * prompts they were +0.062 ± 0.056 and +0.066 ± 0.064, barely past 2 SE (and +0.02 and -0.01 when the evaluation
 * prompts were a stride through the prompt enumeration, which left them cities the comparisons never had). Before
 * the evaluation prompts were held out of the comparisons, with 400 comparisons, 256 evaluation prompts and the
 * same other settings, longer or stronger training did worse on this tiny policy (paired gain ± 95% CI): DPO β 0.1,
 * lr 3e-4 (the former defaults), 20 epochs: -0.42 ± 0.07 at KL 56 (the policy degenerates); lr 3e-5, batch 32, 20
 * epochs: -0.35 ± 0.07 at KL 21; β 0.5, lr 3e-5, 10 epochs of the on-policy comparisons alone: +0.08 ± 0.06 (KL
 * 1.0), at lr 5e-5: +0.00 ± 0.06; β 0.5, lr 3e-5, 8 epochs with the dataset comparisons: +0.07 ± 0.07 (KL 1.8). IPO
 * (mean, β 0.5 or 1.0, lr 3e-5): +0.02, +0.02 and -0.00, each ± 0.07. Training accuracy climbs to 0.8-0.88 in every
 * case: the pairs are learnt, gold barely moves.
 */
class PreferenceAlgorithmsEndToEndTest {
    private static final int ITERATIONS = 6;

    @TempDir static Path shared;
    private static Path sft;

    @BeforeAll
    static void bootstrap() throws IOException {
        sft = TinyExperiments.bootstrapLearningPolicy(shared.resolve("sft"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dpo", "ipo"})
    void tunedPolicyGainsGoldRewardOverTheSftPolicy(String algorithm) throws Exception {
        // setup
        Path run = shared.resolve(algorithm);
        Config config = ConfigFactory.parseMap(Map.ofEntries(
                        Map.entry("rlhf.algorithm", algorithm),
                        Map.entry("rlhf.experiment.run-dir", run.toString()),
                        Map.entry("rlhf.experiment.iterations", ITERATIONS),
                        Map.entry("rlhf." + algorithm + ".epochs", ITERATIONS), // which cap the iterations
                        // the rollout only measures the policy: a small batch keeps the run short
                        Map.entry("rlhf.experiment.prompts-per-iteration", 16),
                        Map.entry("rlhf.experiment.evaluation.prompts", 512),
                        Map.entry("rlhf.experiment.reward.comparisons", 800),
                        Map.entry("rlhf.experiment.reward.dataset-comparisons", 0),
                        Map.entry("rlhf.experiment.checkpoint-every", 10),
                        Map.entry("rlhf.reward-model.max-epochs", 4),
                        // at β 0.1, lr 3e-4 (the former defaults) an epoch of ~1000 pairs per iteration degenerates
                        // this tiny policy within a few iterations (KL > 50, see above)
                        Map.entry("rlhf." + algorithm + ".beta", 0.5),
                        Map.entry("rlhf." + algorithm + ".learning-rate", 3e-5),
                        Map.entry("rlhf." + algorithm + ".batch-size", 32)))
                .withFallback(ConfigFactory.load());

        // run
        RunSummary summary = new ExperimentRunner(config, sft, TinyExperiments.quiet()).run();

        // verify
        RunSummary.Gold gold = summary.gold().orElseThrow();
        System.out.printf("%s: gold SFT %.3f, tuned %.3f, paired gain %.3f ± %.3f, KL %.2f%n", algorithm,
                gold.sft().mean(), gold.tuned().mean(), gold.gain().mean(), gold.gain().ci95(),
                summary.klFinal().mean());
        assertTrue(gold.gain().mean() > 2 * gold.gain().ci95() / 1.96, String.format(
                "%s: gold reward should rise significantly: SFT %.3f, tuned %.3f, paired gain %.3f ± %.3f", algorithm,
                gold.sft().mean(), gold.tuned().mean(), gold.gain().mean(), gold.gain().ci95()));
        List<JsonObject> metrics = TinyExperiments.deterministicMetrics(run);
        assertEquals(ITERATIONS, metrics.size());
        JsonObject first = metrics.get(0);
        JsonObject last = metrics.get(metrics.size() - 1);
        for (String key : List.of("/reward_accuracy", "/loss", "/reward_margin", "/pairs", "/steps")) {
            assertTrue(last.has(algorithm + key), "its own diagnostics: " + last.keySet());
        }
        assertTrue(last.has("kl/to_reference"), "the KL every algorithm is held to: " + last.keySet());
        assertTrue(last.has("reward/rm_mean") && last.has("reward/gold_mean"), "the rollout's rewards: " + last.keySet());
        assertFalse(last.has("ppo/value_loss"), "no value head: " + last.keySet());
        assertEquals(first.get(algorithm + "/pairs"), last.get(algorithm + "/pairs"), "the same pairs every epoch");
        assertTrue(last.get(algorithm + "/pairs").getAsDouble() > 800, "a pair per ordered judgment of 800 comparisons");
        assertTrue(last.get(algorithm + "/reward_accuracy").getAsDouble()
                > first.get(algorithm + "/reward_accuracy").getAsDouble(), "the pairs are learnt");
        assertTrue(summary.klFinal().mean() > 0, "the policy moved: " + summary.klFinal());
    }
}
