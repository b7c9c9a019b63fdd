package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.run.ExperimentHandle;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import dev.rlhf.run.TinyExperiments;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster mode for real: rollout worker nodes in child JVMs ({@code rlhf worker}), the experiment in this JVM
 * with no rollout worker of its own. Every rollout then comes from a worker node, at the version the coordinator
 * published, and the worker process joins again for the next run; a run whose worker node is killed goes on to its
 * end with the one left; with {@code rlhf.cluster.tls} on every node, the same run goes over mutual TLS.
 */
class ClusterRolloutTest {
    private static final Pattern GENERATED =
            Pattern.compile("generated chunk \\d+ \\((\\d+) sequences\\) with weights v(\\d+)");

    @TempDir static Path shared;
    private static Path sft;
    private final List<NodeProcess> workers = new ArrayList<>();

    @BeforeAll
    static void bootstrap() throws Exception {
        sft = TinyExperiments.bootstrapPolicy(shared.resolve("sft"));
    }

    @AfterEach
    void killWorkers() throws InterruptedException {
        for (NodeProcess worker : workers) {
            worker.close();
        }
    }

    @Test
    void everyRolloutComesFromTheRemoteWorkerAtThePublishedVersionAndTheWorkerServesTheNextRun(@TempDir Path dir)
            throws Exception {
        NodeProcess worker = startWorker(dir, "worker-a", List.of());
        int iterations = 2;
        CompletableFuture<Long> finalEvaluationVersion = new CompletableFuture<>();

        ExperimentHandle run = new ExperimentRunner(clusterConfig(dir.resolve("run"), iterations,
                worker.clusterAddress), sft,
                TinyExperiments.quiet()).start(false, event -> {
                    if (event instanceof ExperimentCoordinator.Evaluated e && e.weightVersion() > 0) {
                        finalEvaluationVersion.complete(e.weightVersion());
                    }
                });
        RunSummary summary = run.outcome().get(5, TimeUnit.MINUTES).summary().orElseThrow();

        String log = worker.log();
        List<Long> versions = new ArrayList<>();
        int sequences = 0;
        for (Matcher m = GENERATED.matcher(log); m.find(); ) {
            sequences += Integer.parseInt(m.group(1));
            versions.add(Long.parseLong(m.group(2)));
        }
        // evaluation (16) and comparisons (2 x 48) at v0, 16 per iteration, the final evaluation (16)
        assertEquals(16 + 96 + 16 * iterations + 16, sequences, "every sequence came from the worker node; its log:\n"
                + log);
        assertEquals(iterations, summary.iterations());
        assertEquals(iterations, finalEvaluationVersion.get(), "the final evaluation used the last weights");
        for (long v = 0; v <= iterations; v++) {
            assertTrue(versions.contains(v), "the worker generated with weights v" + v + "; it used " + versions);
        }
        assertEquals(iterations, versions.get(versions.size() - 1), "the last chunk was generated with the weights "
                + "the coordinator published last");

        // the coordinator has left: the worker process starts a fresh node, which the next run finds
        String again = worker.awaitNextClusterAddress();
        assertTrue(again != null, "the worker joined again after the run; its log:\n" + worker.log());
        RunSummary next = new ExperimentRunner(clusterConfig(dir.resolve("next-run"), 1, again), sft,
                TinyExperiments.quiet()).start(false).outcome().get(5, TimeUnit.MINUTES).summary().orElseThrow();
        assertEquals(1, next.iterations());
    }

    @Test
    void runFinishesWhenAWorkerNodeIsKilledMidRun(@TempDir Path dir) throws Exception {
        NodeProcess survivor = startWorker(dir, "worker-a", List.of());
        NodeProcess victim = startWorker(dir, "worker-b", List.of(survivor.clusterAddress));
        int iterations = 3;
        Path runDir = dir.resolve("run");

        ExperimentHandle run = new ExperimentRunner(clusterConfig(runDir, iterations, survivor.clusterAddress), sft,
                TinyExperiments.quiet()).start(false);
        Thread killer = new Thread(() -> {
            try {
                // once the victim holds the first PPO update, the next rollout would send it a chunk
                while (!victim.log().contains("loaded weights v1")) {
                    Thread.sleep(100);
                }
                victim.kill();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "killer");
        killer.setDaemon(true);
        killer.start();
        RunSummary summary = run.outcome().get(5, TimeUnit.MINUTES).summary().orElseThrow();

        assertFalse(victim.isAlive(), "the victim was killed during the run; its log:\n" + victim.log());
        assertTrue(GENERATED.matcher(victim.log()).find(), "the victim generated chunks before it was killed");
        assertEquals(iterations, summary.iterations());
        assertTrue(Files.isRegularFile(runDir.resolve(String.format("checkpoints/iter-%05d", iterations))
                .resolve(GptCheckpoint.WEIGHTS_FILE)), "the run reached its end");
        assertTrue(survivor.log().contains("with weights v" + iterations), "the survivor generated the final "
                + "evaluation with the last weights; its log:\n" + survivor.log());
    }

    @Test
    void aRunOverMutualTlsGetsItsRolloutsFromTheWorkerNode(@TempDir Path dir) throws Exception {
        TestCertificates certificates = TestCertificates.make(dir.resolve("certs"), "coordinator", "worker");
        NodeProcess worker = NodeProcess.start(dir, "worker-tls", sft, List.of(),
                "rlhf.cluster.tls {\n"
                        + "  key-store = \"" + certificates.keyStore("worker") + "\"\n"
                        + "  key-store-password = \"" + TestCertificates.PASSWORD + "\"\n"
                        + "  trust-store = \"" + certificates.trustStore() + "\"\n"
                        + "  trust-store-password = \"" + TestCertificates.PASSWORD + "\"\n"
                        + "}\n");
        workers.add(worker);
        Config config = clusterConfig(dir.resolve("run"), 1, worker.clusterAddress)
                .withValue("rlhf.cluster.tls.key-store",
                        ConfigValueFactory.fromAnyRef(certificates.keyStore("coordinator").toString()))
                .withValue("rlhf.cluster.tls.key-store-password",
                        ConfigValueFactory.fromAnyRef(TestCertificates.PASSWORD))
                .withValue("rlhf.cluster.tls.trust-store",
                        ConfigValueFactory.fromAnyRef(certificates.trustStore().toString()))
                .withValue("rlhf.cluster.tls.trust-store-password",
                        ConfigValueFactory.fromAnyRef(TestCertificates.PASSWORD));

        RunSummary summary = new ExperimentRunner(config, sft, TinyExperiments.quiet()).start(false).outcome()
                .get(5, TimeUnit.MINUTES).summary().orElseThrow();

        assertEquals(1, summary.iterations());
        assertTrue(worker.log().contains("with weights v1"), "the worker node generated with the weights the "
                + "coordinator sent over TLS; its log:\n" + worker.log());
        assertTrue(worker.log().contains("Artery tls-tcp"), "the worker ran Artery over TLS; its log:\n"
                + worker.log());
        String recorded = Files.readString(dir.resolve("run").resolve("config.conf"));
        assertFalse(recorded.contains(TestCertificates.PASSWORD), "config.conf holds a key store password:\n"
                + recorded);
    }

    @Test
    void runWithoutAnyWorkerFailsOnceTheWaitIsOver(@TempDir Path dir) {
        Config alone = clusterConfig(dir.resolve("run"), 1, "unused")
                .withValue("rlhf.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of()))
                .withValue("rlhf.cluster.worker-wait-timeout", ConfigValueFactory.fromAnyRef("1s"));

        ExecutionException failure = assertThrows(ExecutionException.class, () -> new ExperimentRunner(alone, sft,
                TinyExperiments.quiet()).start(false).outcome().get(2, TimeUnit.MINUTES));

        Throwable cause = failure;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertEquals("no rollout worker held weights v0 within PT1S", cause.getMessage());
    }

    private NodeProcess startWorker(Path dir, String name, List<String> seeds) throws Exception {
        NodeProcess worker = NodeProcess.start(dir, name, sft, seeds);
        workers.add(worker);
        return worker;
    }

    /** A tiny run in cluster mode: no local rollout worker, this JVM on a free port, seeded from {@code seed}. */
    private static Config clusterConfig(Path runDir, int iterations, String seed) {
        return ConfigFactory.parseMap(TinyExperiments.keys(runDir, iterations))
                .withValue("rlhf.cluster.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue("rlhf.cluster.port", ConfigValueFactory.fromAnyRef(0))
                .withValue("rlhf.cluster.local-rollout-workers", ConfigValueFactory.fromAnyRef(0))
                .withValue("rlhf.cluster.worker-wait-timeout", ConfigValueFactory.fromAnyRef("2m"))
                .withValue("rlhf.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(seed)))
                .withFallback(ConfigFactory.load());
    }
}
