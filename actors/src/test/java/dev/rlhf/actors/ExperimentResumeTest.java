package dev.rlhf.actors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.typesafe.config.Config;
import dev.rlhf.metrics.MetricsJsonlWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped part-way and resumed from its checkpoint ends exactly where the same run uninterrupted ends: the
 * same weights, the same metrics for every iteration, the same summary. The configuration makes a reward-model
 * retraining be in flight at the stop, so the checkpoint's retraining state is exercised too.
 */
class ExperimentResumeTest {
    private static final int ITERATIONS = 6;

    @TempDir
    static Path shared;

    private static Path sft;

    @BeforeAll
    static void bootstrapTinyPolicy() throws IOException {
        sft = TinyExperiments.bootstrapPolicy(shared.resolve("sft"));
    }

    @Test
    void resumedRunMatchesTheUninterruptedOne(@TempDir Path dir) throws Exception {
        Path straight = dir.resolve("straight");
        RunSummary expected = new ExperimentRunner(config(straight), sft, quiet()).run();

        Path interrupted = dir.resolve("interrupted");
        ExperimentHandle first = new ExperimentRunner(config(interrupted), sft, quiet()).start(false);
        AtomicBoolean asked = new AtomicBoolean();
        first.addListener(event -> {
            if (event instanceof ExperimentCoordinator.IterationDone done && done.iteration() == 1
                    && asked.compareAndSet(false, true)) {
                first.stop(); // takes effect at the end of the iteration after this one
            }
        });
        ExperimentRunner.Outcome stopped = first.await();
        assertTrue(stopped.summary().isEmpty(), "a stopped run has no summary");
        assertEquals(3, stopped.iterations(), "the stop takes effect at the next iteration boundary");
        assertEquals(interrupted.resolve("checkpoints/iter-00003"), stopped.stoppedAt().orElseThrow());
        RunCheckpoint.State state = RunCheckpoint.readState(stopped.stoppedAt().get());
        assertTrue(state.retrainingDue() >= 3, "a reward-model training is in flight at the stop: " + state);

        ExperimentRunner.Outcome resumed = new ExperimentRunner(config(interrupted), sft, quiet()).start(true).await();

        RunSummary actual = resumed.summary().orElseThrow();
        assertEquals(ITERATIONS, resumed.iterations());
        assertEquals(expected.goldSft().mean(), actual.goldSft().mean());
        assertEquals(expected.goldTuned().mean(), actual.goldTuned().mean());
        assertEquals(expected.klFinal().mean(), actual.klFinal().mean());
        assertEquals(expected.klLastIteration(), actual.klLastIteration());
        assertEquals(expected.rmAccuracyGold(), actual.rmAccuracyGold());
        assertEquals(expected.rewardModelVersions(), actual.rewardModelVersions());
        assertArrayEquals(Files.readAllBytes(finalWeights(straight)), Files.readAllBytes(finalWeights(interrupted)),
                "the final weights are bit for bit the same");
        assertEquals(deterministicMetrics(straight), deterministicMetrics(interrupted));
    }

    @Test
    void freshRunRefusesADirectoryThatHoldsARun(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve(MetricsJsonlWriter.FILE_NAME), "{\"iteration\":1}\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new ExperimentRunner(config(run), sft, quiet()).run());
        assertTrue(e.getMessage().contains("already holds a run"), e.getMessage());
    }

    private static Path finalWeights(Path run) {
        return TinyExperiments.weightsAt(run, ITERATIONS);
    }

    private static List<JsonObject> deterministicMetrics(Path run) throws IOException {
        List<JsonObject> lines = TinyExperiments.deterministicMetrics(run);
        assertEquals(ITERATIONS, lines.size(), "one line per iteration in " + run);
        assertFalse(lines.get(0).keySet().isEmpty());
        return lines;
    }

    private static Config config(Path run) {
        return TinyExperiments.config(run, ITERATIONS);
    }

    private static PrintStream quiet() {
        return TinyExperiments.quiet();
    }
}
