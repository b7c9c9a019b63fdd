package dev.rlhf.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.policy.model.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A GRPO or DPO run stopped part-way and resumed from its checkpoint ends bit for bit where the uninterrupted one
 * ends, as PPO's does (ExperimentResumeTest): GRPO's checkpoint holds no value head and no KL controller, and a
 * resumed DPO learner reads the judged initial comparisons again and trains on the same pairs. A checkpoint of one
 * algorithm does not resume as another.
 */
class AlgorithmResumeTest {
    private static final int ITERATIONS = 5;

    private static Config config(Path run, String algorithm) {
        Map<String, Object> keys = new HashMap<>(TinyExperiments.keys(run, ITERATIONS));
        keys.put("rlhf.algorithm", algorithm);
        keys.put("rlhf.grpo.group-size", 4);
        keys.put("rlhf.dpo.epochs", ITERATIONS); // the epochs cap a DPO run's iterations
        return ConfigFactory.parseMap(keys).withFallback(ConfigFactory.load());
    }

    @ParameterizedTest
    @ValueSource(strings = {"grpo", "dpo"})
    void aResumedRunMatchesTheUninterruptedOneAndResumesAsNothingElse(String algorithm, @TempDir Path dir)
            throws Exception {
        // setup
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        Path straight = dir.resolve("straight");
        Path interrupted = dir.resolve("interrupted");
        RunSummary expected = new ExperimentRunner(config(straight, algorithm), sft, TinyExperiments.quiet()).run();

        // run
        ExperimentHandle first = new ExperimentRunner(config(interrupted, algorithm), sft, TinyExperiments.quiet())
                .start(false);
        AtomicBoolean asked = new AtomicBoolean();
        first.addListener(event -> {
            if (event instanceof ExperimentCoordinator.IterationDone done && done.iteration() == 1
                    && asked.compareAndSet(false, true)) {
                first.stop();
            }
        });
        ExperimentRunner.Outcome stopped = first.await();
        Exception asPpo = assertThrows(Exception.class, () -> new ExperimentRunner(config(interrupted, "ppo"), sft,
                TinyExperiments.quiet()).start(true).await());
        ExperimentRunner.Outcome resumed = new ExperimentRunner(config(interrupted, algorithm), sft,
                TinyExperiments.quiet()).start(true).await();

        // verify
        assertEquals(3, stopped.iterations());
        Throwable cause = asPpo instanceof java.util.concurrent.ExecutionException ? asPpo.getCause() : asPpo;
        assertTrue(cause instanceof CheckpointException && cause.getMessage().contains("was written by " + algorithm + " but"
                + " rlhf.algorithm is ppo"), String.valueOf(cause));
        RunSummary actual = resumed.summary().orElseThrow();
        assertEquals(expected.klFinal().mean(), actual.klFinal().mean());
        assertEquals(expected.gold().orElseThrow().tuned().mean(), actual.gold().orElseThrow().tuned().mean());
        assertArrayEquals(Files.readAllBytes(TinyExperiments.weightsAt(straight, ITERATIONS)),
                Files.readAllBytes(TinyExperiments.weightsAt(interrupted, ITERATIONS)), "the final weights");
        assertEquals(TinyExperiments.deterministicMetrics(straight), TinyExperiments.deterministicMetrics(interrupted));
    }
}
