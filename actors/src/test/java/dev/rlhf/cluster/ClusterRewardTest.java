package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import dev.rlhf.run.TinyExperiments;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote reward scoring for real: reward nodes in child JVMs ({@code rlhf node --role reward}), the experiment in
 * this JVM with {@code rlhf.cluster.reward-scoring = remote}. A run scored remotely gives the metrics and weights of
 * the same run scored locally, bit for bit, every iteration's completions scored by the node across a reward-model
 * swap; a run whose reward node is killed (SIGKILL) mid-run waits for a replacement node and finishes with it.
 */
class ClusterRewardTest {
    private static final Pattern SCORED =
            Pattern.compile("scored chunk \\d+ \\((\\d+) pairs\\) with reward model v(\\d+)");
    private static final int ITERATIONS = 4;

    @TempDir static Path shared;
    private static Path sft;
    private final List<WorkerNodeProcess> nodes = new ArrayList<>();

    @BeforeAll
    static void bootstrap() throws Exception {
        sft = TinyExperiments.bootstrapPolicy(shared.resolve("sft"));
    }

    @AfterEach
    void killNodes() throws InterruptedException {
        for (WorkerNodeProcess node : nodes) {
            node.close();
        }
    }

    @Test
    void aRunScoredOnARewardNodeEqualsTheSameRunScoredLocally(@TempDir Path dir) throws Exception {
        WorkerNodeProcess reward = start(WorkerNodeProcess.startReward(dir, "reward-a", sft, List.of()));
        Config local = TinyExperiments.config(dir.resolve("local"), ITERATIONS);
        Config remote = remoteScoring(dir.resolve("remote"), ITERATIONS, reward.clusterAddress)
                .withValue("rlhf.cluster.local-rollout-workers",
                        ConfigValueFactory.fromAnyRef(local.getInt("rlhf.experiment.rollout-workers")));

        new ExperimentRunner(remote, sft, TinyExperiments.quiet()).run();
        new ExperimentRunner(local, sft, TinyExperiments.quiet()).run();

        assertEquals(ITERATIONS, TinyExperiments.deterministicMetrics(dir.resolve("remote")).size());
        assertEquals(TinyExperiments.deterministicMetrics(dir.resolve("local")),
                TinyExperiments.deterministicMetrics(dir.resolve("remote")), "metrics of every iteration");
        assertArrayEquals(Files.readAllBytes(TinyExperiments.weightsAt(dir.resolve("local"), ITERATIONS)),
                Files.readAllBytes(TinyExperiments.weightsAt(dir.resolve("remote"), ITERATIONS)), "final weights");
        String log = reward.log();
        List<Integer> versions = new ArrayList<>();
        int pairs = 0;
        for (Matcher m = SCORED.matcher(log); m.find(); ) {
            pairs += Integer.parseInt(m.group(1));
            versions.add(Integer.parseInt(m.group(2)));
        }
        assertEquals(16 * ITERATIONS, pairs, "every iteration's 16 completions were scored on the node; its log:\n"
                + log);
        assertTrue(versions.contains(1) && versions.contains(2), "the node scored with v1, then with the retrained "
                + "v2 from the boundary the schedule named: " + versions);
    }

    @Test
    void aRunWhoseRewardNodeIsKilledMidRunFinishesOnAReplacement(@TempDir Path dir) throws Exception {
        // the cluster's seed is a rollout worker node, so the replacement reward node can join after the kill
        WorkerNodeProcess worker = start(WorkerNodeProcess.start(dir, "worker", sft, List.of()));
        WorkerNodeProcess victim = start(WorkerNodeProcess.startReward(dir, "reward-a", sft,
                List.of(worker.clusterAddress)));
        int iterations = 6;
        Config config = remoteScoring(dir.resolve("run"), iterations, worker.clusterAddress);
        CompletableFuture<WorkerNodeProcess> replacement = new CompletableFuture<>();
        Thread killer = new Thread(() -> {
            try {
                while (!SCORED.matcher(victim.log()).find()) { // it scores the first iteration, then dies
                    Thread.sleep(50);
                }
                victim.kill();
                replacement.complete(WorkerNodeProcess.startReward(dir, "reward-b", sft,
                        List.of(worker.clusterAddress)));
            } catch (Exception e) {
                replacement.completeExceptionally(e);
            }
        }, "killer");
        killer.setDaemon(true);
        killer.start();

        RunSummary summary = new ExperimentRunner(config, sft, TinyExperiments.quiet()).start(false).outcome()
                .get(5, TimeUnit.MINUTES).summary().orElseThrow();
        WorkerNodeProcess second = start(replacement.get(1, TimeUnit.MINUTES));

        assertEquals(iterations, summary.iterations());
        assertEquals(iterations, TinyExperiments.deterministicMetrics(dir.resolve("run")).size(),
                "metrics for every iteration");
        assertFalse(victim.isAlive());
        int scoredByVictim = scoredPairs(victim.log());
        int scoredByReplacement = scoredPairs(second.log());
        assertTrue(scoredByVictim > 0 && scoredByReplacement > 0, "both nodes scored: " + scoredByVictim + " and "
                + scoredByReplacement);
        assertTrue(scoredByVictim + scoredByReplacement >= 16 * iterations, "every iteration's 16 completions were "
                + "scored (a chunk in flight at the kill is scored again): " + scoredByVictim + " + "
                + scoredByReplacement);
    }

    private WorkerNodeProcess start(WorkerNodeProcess node) {
        nodes.add(node);
        return node;
    }

    private static int scoredPairs(String log) {
        int pairs = 0;
        for (Matcher m = SCORED.matcher(log); m.find(); ) {
            pairs += Integer.parseInt(m.group(1));
        }
        return pairs;
    }

    /** A tiny run in cluster mode scored on reward nodes: this JVM on a free port, seeded from {@code seed}. */
    private static Config remoteScoring(Path runDir, int iterations, String seed) {
        return ConfigFactory.parseMap(TinyExperiments.keys(runDir, iterations))
                .withValue("rlhf.cluster.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue("rlhf.cluster.reward-scoring", ConfigValueFactory.fromAnyRef("remote"))
                .withValue("rlhf.cluster.port", ConfigValueFactory.fromAnyRef(0))
                .withValue("rlhf.cluster.worker-wait-timeout", ConfigValueFactory.fromAnyRef("2m"))
                .withValue("rlhf.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(seed)))
                .withFallback(ConfigFactory.load());
    }
}
