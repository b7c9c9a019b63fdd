package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import dev.rlhf.run.TinyExperiments;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learner node holds the run's learner state, so losing it is losing the learner: killed (SIGKILL) mid-run,
 * it ends the run with an error naming the learner, and {@code --resume} continues on a new learner node (given the
 * same checkpoint root, as a StatefulSet's volume is) from the checkpoint the first one wrote, to the weights the
 * uninterrupted run ends with.
 */
class LearnerLossTest {
    private static final int ITERATIONS = 6;
    /** Nodes decide sooner than the 20 s default, to keep the test short. */
    private static final String QUICK_RESOLVER = "pekko.cluster.split-brain-resolver.stable-after = 3s\n";

    @Test
    void aKilledLearnerNodeEndsTheRunAndTheResumedRunFinishesOnANewOne(@TempDir Path dir) throws Exception {
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        String seed = "pekko://rlhf@127.0.0.1:" + NodeProcess.freePort();
        Path run = dir.resolve("run");
        Path learnerRoot = dir.resolve("learner");
        Config config = coordinator(run, seed);
        try (NodeProcess worker = NodeProcess.start(dir, "worker", sft, List.of(seed), QUICK_RESOLVER);
                NodeProcess doomed = NodeProcess.startLearner(dir, "learner-a", sft, learnerRoot, List.of(seed))) {
            Path record = run.resolve("checkpoints/iter-00004/state.json");
            Thread killer = new Thread(() -> {
                try {
                    while (!Files.exists(record)) {
                        Thread.sleep(20);
                    }
                    doomed.kill();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "killer");
            killer.setDaemon(true);
            killer.start();

            ExecutionException failed = assertThrows(ExecutionException.class, () -> new ExperimentRunner(config, sft,
                    TinyExperiments.quiet()).start(false).outcome().get(3, TimeUnit.MINUTES));
            assertTrue(failed.getCause().getMessage().contains("learner"), "the run ended naming the learner: "
                    + failed.getCause().getMessage());
            try (NodeProcess replacement = NodeProcess.startLearner(dir, "learner-b", sft, learnerRoot,
                    List.of(seed))) {
                RunSummary summary = new ExperimentRunner(config, sft, TinyExperiments.quiet()).start(true)
                        .outcome().get(3, TimeUnit.MINUTES).summary().orElseThrow();

                assertEquals(ITERATIONS, summary.iterations());
                assertEquals(ITERATIONS, TinyExperiments.deterministicMetrics(run).size(),
                        "metrics for every iteration");
                assertTrue(replacement.log().contains("resumed from its checkpoint of iteration 4"),
                        "the new learner node resumed from the first one's checkpoint; its log:\n"
                                + replacement.log());
            }
        }
        Path local = dir.resolve("local");
        new ExperimentRunner(TinyExperiments.config(local, ITERATIONS)
                .withValue("rlhf.experiment.rollout-workers", ConfigValueFactory.fromAnyRef(1)), sft,
                TinyExperiments.quiet()).run();
        Path learnerRun;
        try (Stream<Path> runs = Files.list(learnerRoot)) {
            learnerRun = runs.findFirst().orElseThrow();
        }
        assertArrayEquals(Files.readAllBytes(TinyExperiments.weightsAt(local, ITERATIONS)),
                Files.readAllBytes(TinyExperiments.weightsAt(learnerRun, ITERATIONS)),
                "the resumed run ends with the weights of the uninterrupted one");
    }

    /** The coordinator at the seed address, rollouts on the rollout node, updates on the learner node. */
    private static Config coordinator(Path run, String seed) {
        return ConfigFactory.parseMap(TinyExperiments.keys(run, ITERATIONS))
                .withValue("rlhf.cluster.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue("rlhf.cluster.learner", ConfigValueFactory.fromAnyRef("remote"))
                .withValue("rlhf.cluster.port", ConfigValueFactory.fromAnyRef(Integer.parseInt(
                        seed.substring(seed.lastIndexOf(':') + 1))))
                .withValue("rlhf.cluster.local-rollout-workers", ConfigValueFactory.fromAnyRef(0))
                .withValue("rlhf.cluster.worker-wait-timeout", ConfigValueFactory.fromAnyRef("2m"))
                .withValue("rlhf.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of(seed)))
                .withFallback(ConfigFactory.load());
    }
}
