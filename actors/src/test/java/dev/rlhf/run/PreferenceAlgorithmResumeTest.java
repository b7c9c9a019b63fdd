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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DPO run stopped part-way and resumed from its checkpoint ends bit for bit where the uninterrupted one ends:
 * the resumed learner reads the judged initial comparisons again and trains on the same pairs; a checkpoint of
 * one algorithm does not resume as another.
 */
class PreferenceAlgorithmResumeTest {
    private static final int ITERATIONS = 5;

    private static Config config(Path run, String algorithm) {
        Map<String, Object> keys = new HashMap<>(TinyExperiments.keys(run, ITERATIONS));
        keys.put("rlhf.algorithm", algorithm);
        return ConfigFactory.parseMap(keys).withFallback(ConfigFactory.load());
    }

    @Test
    void aResumedDpoRunMatchesTheUninterruptedOneAndResumesAsNothingElse(@TempDir Path dir) throws Exception {
        // setup
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        Path straight = dir.resolve("straight");
        Path interrupted = dir.resolve("interrupted");
        RunSummary expected = new ExperimentRunner(config(straight, "dpo"), sft, TinyExperiments.quiet()).run();

        // run
        ExperimentHandle first = new ExperimentRunner(config(interrupted, "dpo"), sft, TinyExperiments.quiet())
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
        ExperimentRunner.Outcome resumed = new ExperimentRunner(config(interrupted, "dpo"), sft,
                TinyExperiments.quiet()).start(true).await();

        // verify
        assertEquals(3, stopped.iterations());
        Throwable cause = asPpo instanceof java.util.concurrent.ExecutionException ? asPpo.getCause() : asPpo;
        assertTrue(cause instanceof CheckpointException && cause.getMessage().contains("was written by dpo but"
                + " rlhf.algorithm is ppo"), String.valueOf(cause));
        RunSummary actual = resumed.summary().orElseThrow();
        assertEquals(expected.klFinal().mean(), actual.klFinal().mean());
        assertEquals(expected.gold().orElseThrow().tuned().mean(), actual.gold().orElseThrow().tuned().mean());
        assertArrayEquals(Files.readAllBytes(TinyExperiments.weightsAt(straight, ITERATIONS)),
                Files.readAllBytes(TinyExperiments.weightsAt(interrupted, ITERATIONS)), "the final weights");
        assertEquals(TinyExperiments.deterministicMetrics(straight), TinyExperiments.deterministicMetrics(interrupted));
    }
}
