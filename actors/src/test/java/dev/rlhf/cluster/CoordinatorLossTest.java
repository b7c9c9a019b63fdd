package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.cli.RlhfCli;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import dev.rlhf.run.TinyExperiments;
import dev.rlhf.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator is a node a run cannot lose: killed (SIGKILL) mid-run in its own JVM, it takes the run with it.
 * Its rollout, reward and learner nodes, left without it, down themselves (the split-brain resolver keeps the
 * coordinator's side) and start fresh nodes that wait at the seed address; {@code --resume} there continues the run
 * from its last checkpoint on the same nodes (the fresh learner node from the checkpoint the first one wrote), to
 * its end.
 */
class CoordinatorLossTest {
    private static final int ITERATIONS = 12;
    /** Nodes decide sooner than the 20 s default, to keep the test short. */
    private static final String QUICK_RESOLVER = "pekko.cluster.split-brain-resolver.stable-after = 3s\n";

    @Test
    void nodesOutliveAKilledCoordinatorAndTheResumedRunFinishesOnThem(@TempDir Path dir) throws Exception {
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        String seed = "pekko://rlhf@127.0.0.1:" + NodeProcess.freePort();
        Path run = dir.resolve("run");
        Config keys = coordinatorKeys(run, seed, sft);
        Path configFile = dir.resolve("coordinator.conf");
        Files.writeString(configFile, keys.root().render(ConfigRenderOptions.concise()));
        try (NodeProcess worker = NodeProcess.start(dir, "worker", sft, List.of(seed), QUICK_RESOLVER);
                NodeProcess reward = NodeProcess.startReward(dir, "reward", sft, List.of(seed),
                        QUICK_RESOLVER);
                NodeProcess learner = NodeProcess.startLearner(dir, "learner", sft, dir.resolve("learner"),
                        List.of(seed), QUICK_RESOLVER)) {
            Path log = dir.resolve("coordinator.log");
            Process coordinator = new ProcessBuilder(ChildJvm.command(List.of("-Xmx1g", "-Dai.djl.offline=true"),
                            RlhfCli.class, "train", "--config", configFile.toString()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                Path checkpoint = run.resolve("checkpoints/iter-00004");
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
                while (!Files.isDirectory(checkpoint) && coordinator.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertTrue(Files.isDirectory(checkpoint), "the run wrote its first checkpoint; its log:\n"
                        + Files.readString(log));
            } finally {
                coordinator.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }

            assertNotNull(worker.awaitNextClusterAddress(), "the rollout node started afresh; its log:\n"
                    + worker.log());
            assertNotNull(reward.awaitNextClusterAddress(), "the reward node started afresh; its log:\n"
                    + reward.log());
            assertNotNull(learner.awaitNextClusterAddress(), "the learner node started afresh; its log:\n"
                    + learner.log());
            RunSummary summary = new ExperimentRunner(keys.withFallback(ConfigFactory.load()), sft,
                    TinyExperiments.quiet()).start(true).outcome()
                    .get(5, TimeUnit.MINUTES).summary().orElseThrow();

            assertEquals(ITERATIONS, summary.iterations());
            assertEquals(ITERATIONS, TinyExperiments.deterministicMetrics(run).size(), "metrics for every iteration");
            assertTrue(worker.log().contains("with weights v" + ITERATIONS), "the fresh rollout node generated with "
                    + "the resumed run's last weights");
            assertTrue(learner.log().contains("resumed from its checkpoint of iteration 4"), "the fresh learner node "
                    + "resumed from the checkpoint the first one wrote; its log:\n" + learner.log());
        }
    }

    /** The coordinator at the seed address, every rollout and every score on the nodes. */
    private static Config coordinatorKeys(Path run, String seed, Path sft) {
        return ConfigFactory.parseMap(TinyExperiments.keys(run, ITERATIONS))
                .withValue("rlhf.experiment.policy-checkpoint", ConfigValueFactory.fromAnyRef(sft.toString()))
                .withValue("rlhf.cluster.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue("rlhf.cluster.reward-scoring", ConfigValueFactory.fromAnyRef("remote"))
                .withValue("rlhf.cluster.learner", ConfigValueFactory.fromAnyRef("remote"))
                .withValue("rlhf.cluster.port", ConfigValueFactory.fromAnyRef(Integer.parseInt(
                        seed.substring(seed.lastIndexOf(':') + 1))))
                .withValue("rlhf.cluster.local-rollout-workers", ConfigValueFactory.fromAnyRef(0))
                .withValue("rlhf.cluster.worker-wait-timeout", ConfigValueFactory.fromAnyRef("2m"))
                .withValue("rlhf.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(seed)));
    }
}
