package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.PolicyExport;
import dev.rlhf.run.RunSummary;
import dev.rlhf.run.TinyExperiments;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The roles on nodes of their own, for real: rollout, reward, preferences and learner nodes in child JVMs ({@code
 * rlhf node --role ...}), the coordinator in this JVM. A run generated on a rollout node, scored on a reward node,
 * with its preference store on the preferences node and its updates on the learner node, gives the metrics and
 * weights of the same run in one JVM, bit for bit, every iteration's completions scored by the node across a
 * reward-model swap and every weight version sent to the rollout node by the learner node; so does DPO on the
 * learner node, which gets its judged comparisons from the coordinator. In six JVMs (coordinator,
 * learner, two rollout nodes, reward, preferences), a run whose rollout node and then reward node are killed
 * (SIGKILL) mid-run goes on with the other rollout node and a replacement reward node, and finishes every iteration.
 * A run whose learner node is killed ends naming the learner, and {@code --resume} continues it on a new learner
 * node from the checkpoint the first one wrote, to the end the uninterrupted run reaches.
 */
class ClusterRolesTest {
    private static final Pattern SCORED =
            Pattern.compile("scored chunk \\d+ \\((\\d+) pairs\\) with reward model v(\\d+)");
    private static final int ITERATIONS = 4;

    @TempDir static Path shared;
    private static Path sft;
    private final List<NodeProcess> nodes = new ArrayList<>();

    @BeforeAll
    static void bootstrap() throws Exception {
        sft = TinyExperiments.bootstrapPolicy(shared.resolve("sft"));
    }

    @AfterEach
    void killNodes() throws InterruptedException {
        for (NodeProcess node : nodes) {
            node.close();
        }
    }

    @Test
    void aRunWithItsRolesOnNodesEqualsTheSameRunInOneJvm(@TempDir Path dir) throws Exception {
        NodeProcess rollout = start(NodeProcess.start(dir, "worker-a", sft, List.of()));
        List<String> seed = List.of(rollout.clusterAddress);
        NodeProcess reward = start(NodeProcess.startReward(dir, "reward-a", sft, seed));
        Path stores = dir.resolve("stores");
        start(NodeProcess.startPreferences(dir, "preferences", stores, seed));
        Path learnerRoot = dir.resolve("learner");
        NodeProcess learner = start(NodeProcess.startLearner(dir, "learner", sft, learnerRoot, seed));
        // one rollout worker in each run: a rollout is cut into a chunk per worker, and a chunk is generated and
        // scored as one batch, so the same worker count gives the same batches
        Config local = TinyExperiments.config(dir.resolve("local"), ITERATIONS)
                .withValue("rlhf.experiment.rollout-workers", ConfigValueFactory.fromAnyRef(1));
        Config remote = remoteRoles(dir.resolve("remote"), ITERATIONS, rollout.clusterAddress);

        new ExperimentRunner(remote, sft, TinyExperiments.quiet()).run();
        new ExperimentRunner(local, sft, TinyExperiments.quiet()).run();

        assertEquals(ITERATIONS, TinyExperiments.deterministicMetrics(dir.resolve("remote")).size());
        assertEquals(TinyExperiments.deterministicMetrics(dir.resolve("local")),
                TinyExperiments.deterministicMetrics(dir.resolve("remote")), "metrics of every iteration");
        Path learnerRun = onlyRun(learnerRoot, "remote-");
        assertArrayEquals(Files.readAllBytes(TinyExperiments.weightsAt(dir.resolve("local"), ITERATIONS)),
                Files.readAllBytes(TinyExperiments.weightsAt(learnerRun, ITERATIONS)), "final weights, which the "
                        + "learner node wrote under its checkpoint root");
        Path record = dir.resolve("remote").resolve(String.format("checkpoints/iter-%05d", ITERATIONS));
        assertFalse(Files.exists(TinyExperiments.weightsAt(dir.resolve("remote"), ITERATIONS)),
                "the run directory records the checkpoint without its weights");
        assertTrue(Files.readString(record.resolve("state.json")).contains(learnerRun.toAbsolutePath().toString()),
                "the record names where the learner node keeps the checkpoint");
        assertEquals(learnerRun.resolve(String.format("checkpoints/iter-%05d", ITERATIONS)).toAbsolutePath(),
                PolicyExport.checkpoint(dir.resolve("remote"), Optional.empty()), "rlhf export follows the record");
        String learnerLog = learner.log();
        for (int version = 1; version <= ITERATIONS; version++) {
            assertTrue(rollout.log().contains("loaded weights v" + version), "the rollout node loaded v" + version);
        }
        assertTrue(learnerLog.contains("learner of run remote-"), "the learner node opened the run: " + learnerLog);
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
        assertFalse(Files.exists(dir.resolve("remote").resolve("preferences")), "no store in the run directory");
        onlyRun(stores, "remote-");
    }

    /** The one run directory under a node's root, checked to be named after the run directory {@code prefix}. */
    private static Path onlyRun(Path root, String prefix) throws Exception {
        try (Stream<Path> runs = Files.list(root)) {
            List<Path> all = runs.toList();
            assertEquals(1, all.size(), "one run under " + root + ": " + all);
            assertTrue(all.get(0).getFileName().toString().startsWith(prefix), "named after the run directory: "
                    + all.get(0));
            return all.get(0);
        }
    }

    @Test
    void anOfflineAlgorithmOnTheLearnerNodeEqualsItsRunInOneJvm(@TempDir Path dir) throws Exception {
        NodeProcess rollout = start(NodeProcess.start(dir, "worker-a", sft, List.of()));
        Path learnerRoot = dir.resolve("learner");
        start(NodeProcess.startLearner(dir, "learner", sft, learnerRoot, List.of(rollout.clusterAddress)));
        // DPO trains on the judgments reward model v1 trains on, which the coordinator hands the learner node
        Config local = TinyExperiments.config(dir.resolve("local"), ITERATIONS)
                .withValue("rlhf.algorithm", ConfigValueFactory.fromAnyRef("dpo"))
                .withValue("rlhf.experiment.rollout-workers", ConfigValueFactory.fromAnyRef(1));
        Config remote = ConfigFactory.parseMap(TinyExperiments.keys(dir.resolve("remote"), ITERATIONS))
                .withValue("rlhf.algorithm", ConfigValueFactory.fromAnyRef("dpo"))
                .withValue("rlhf.cluster.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue("rlhf.cluster.learner", ConfigValueFactory.fromAnyRef("remote"))
                .withValue("rlhf.cluster.port", ConfigValueFactory.fromAnyRef(0))
                .withValue("rlhf.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(rollout.clusterAddress)))
                .withFallback(ConfigFactory.load());

        RunSummary summary = new ExperimentRunner(remote, sft, TinyExperiments.quiet()).run();
        new ExperimentRunner(local, sft, TinyExperiments.quiet()).run();

        int iterations = summary.iterations(); // rlhf.dpo.epochs caps them
        assertEquals(TinyExperiments.deterministicMetrics(dir.resolve("local")),
                TinyExperiments.deterministicMetrics(dir.resolve("remote")), "metrics of every iteration");
        assertArrayEquals(Files.readAllBytes(TinyExperiments.weightsAt(dir.resolve("local"), iterations)),
                Files.readAllBytes(TinyExperiments.weightsAt(onlyRun(learnerRoot, "remote-"), iterations)),
                "final weights");
    }

    @Test
    void aRunWhoseRolloutAndRewardNodesAreKilledMidRunFinishesOnTheOthers(@TempDir Path dir) throws Exception {
        // the cluster's seed is a rollout node that stays, so the replacement reward node can join after the kill
        NodeProcess worker = start(NodeProcess.start(dir, "worker-a", sft, List.of()));
        List<String> seed = List.of(worker.clusterAddress);
        NodeProcess doomedWorker = start(NodeProcess.start(dir, "worker-b", sft, seed));
        NodeProcess doomedReward = start(NodeProcess.startReward(dir, "reward-a", sft, seed));
        start(NodeProcess.startPreferences(dir, "preferences", dir.resolve("stores"), seed));
        start(NodeProcess.startLearner(dir, "learner", sft, dir.resolve("learner"), seed));
        int iterations = 6;
        Config config = remoteRoles(dir.resolve("run"), iterations, worker.clusterAddress);
        CompletableFuture<NodeProcess> replacement = new CompletableFuture<>();
        Thread killer = new Thread(() -> {
            try {
                while (!doomedWorker.log().contains("loaded weights v1")) { // it generates the next iteration's
                    Thread.sleep(50);
                }
                doomedWorker.kill();
                int scored = scoredPairs(doomedReward.log());
                while (scoredPairs(doomedReward.log()) == scored) { // it scores one more chunk, then dies
                    Thread.sleep(50);
                }
                doomedReward.kill();
                replacement.complete(NodeProcess.startReward(dir, "reward-b", sft, seed));
            } catch (Exception e) {
                replacement.completeExceptionally(e);
            }
        }, "killer");
        killer.setDaemon(true);
        killer.start();

        RunSummary summary = new ExperimentRunner(config, sft, TinyExperiments.quiet()).start(false).outcome()
                .get(5, TimeUnit.MINUTES).summary().orElseThrow();
        NodeProcess second = start(replacement.get(1, TimeUnit.MINUTES));

        assertEquals(iterations, summary.iterations());
        assertEquals(iterations, TinyExperiments.deterministicMetrics(dir.resolve("run")).size(),
                "metrics for every iteration");
        assertFalse(doomedWorker.isAlive() || doomedReward.isAlive());
        assertTrue(worker.log().contains("with weights v" + iterations), "the rollout node left generated the final "
                + "evaluation with the last weights");
        int scoredByVictim = scoredPairs(doomedReward.log());
        int scoredByReplacement = scoredPairs(second.log());
        assertTrue(scoredByVictim > 0 && scoredByReplacement > 0, "both reward nodes scored: " + scoredByVictim
                + " and " + scoredByReplacement);
        assertTrue(scoredByVictim + scoredByReplacement >= 16 * iterations, "every iteration's 16 completions were "
                + "scored (a chunk in flight at the kill is scored again): " + scoredByVictim + " + "
                + scoredByReplacement);
    }

    private NodeProcess start(NodeProcess node) {
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

    /**
     * A tiny run in cluster mode scored on reward nodes, its store on the preferences node, its learner on the learner
     * node: this JVM on a free port, seeded from {@code seed}, with no rollout worker of its own.
     */
    private static Config remoteRoles(Path runDir, int iterations, String seed) {
        return ConfigFactory.parseMap(TinyExperiments.keys(runDir, iterations))
                .withValue("rlhf.cluster.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue("rlhf.cluster.reward-scoring", ConfigValueFactory.fromAnyRef("remote"))
                .withValue("rlhf.cluster.preference-store", ConfigValueFactory.fromAnyRef("remote"))
                .withValue("rlhf.cluster.learner", ConfigValueFactory.fromAnyRef("remote"))
                .withValue("rlhf.cluster.local-rollout-workers", ConfigValueFactory.fromAnyRef(0))
                .withValue("rlhf.cluster.port", ConfigValueFactory.fromAnyRef(0))
                .withValue("rlhf.cluster.worker-wait-timeout", ConfigValueFactory.fromAnyRef("2m"))
                .withValue("rlhf.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(seed)))
                .withFallback(ConfigFactory.load());
    }
}
