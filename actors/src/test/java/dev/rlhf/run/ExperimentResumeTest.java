package dev.rlhf.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.typesafe.config.Config;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.LearnerActor;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.metrics.MetricsJsonlWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped part-way and resumed from its checkpoint ends exactly where the same run uninterrupted ends: the
 * same weights, the same metrics for every iteration, the same summary. The configuration makes a reward-model
 * retraining be in flight at the stop, so the checkpoint's retraining state is exercised too. A run whose learner
 * fails ends at once naming it, keeps its last checkpoint, and resumes from it to the same end.
 */
class ExperimentResumeTest {
    private static final int ITERATIONS = 6;

    @TempDir
    static Path shared;

    private static Path sft;
    private static Path straight;
    private static RunSummary expected;

    @BeforeAll
    static void runStraight() throws Exception {
        sft = TinyExperiments.bootstrapPolicy(shared.resolve("sft"));
        straight = shared.resolve("straight");
        expected = new ExperimentRunner(config(straight), sft, quiet()).run();
    }

    @Test
    void resumedRunMatchesTheUninterruptedOne(@TempDir Path dir) throws Exception {
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

        assertSameEnd(resumed, interrupted);
    }

    @Test
    void aRunWhoseLearnerFailsEndsAtOnceNamingItAndResumesFromItsLastCheckpoint(@TempDir Path dir)
            throws Exception {
        Path failing = dir.resolve("failing");
        int failingIteration = ITERATIONS - 1; // after the checkpoint of iteration 4
        long started = System.nanoTime();
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        IllegalStateException failure = assertThrows(IllegalStateException.class, () -> new ExperimentRunner(
                config(failing), sft, new PrintStream(console, true, StandardCharsets.UTF_8),
                (worker, factory) -> factory,
                roles -> new ExperimentCoordinator.Roles(roles.localWorkers(), roles.scorer(),
                        failingAt(failingIteration, roles.learner()), roles.collector(), roles.trainer(),
                        roles.dispatcher())).run());
        double seconds = (System.nanoTime() - started) / 1e9;

        assertTrue(failure.getMessage().startsWith("learner failed: ")
                && failure.getMessage().contains("injected fault"), failure.getMessage());
        assertTrue(seconds < 120, "the whole run, failure included, took " + seconds + " s");
        assertEquals(List.of("iter-00004"), checkpointsOf(failing), "the last checkpoint is kept");
        String printed = console.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("FAILED: learner failed: ")
                && printed.contains("keeps checkpoint " + failing.resolve("checkpoints/iter-00004")), printed);

        ExperimentRunner.Outcome resumed = new ExperimentRunner(config(failing), sft, quiet()).start(true).await();

        assertSameEnd(resumed, failing);
    }

    /** A learner that throws, without answering, on the update of {@code iteration}. */
    private static Behavior<LearnerActor.Command> failingAt(int iteration,
            Behavior<LearnerActor.Command> learner) {
        return Behaviors.intercept(() -> new BehaviorInterceptor<>(LearnerActor.Command.class) {
            @Override
            public Behavior<LearnerActor.Command> aroundReceive(TypedActorContext<LearnerActor.Command> context,
                    LearnerActor.Command message, ReceiveTarget<LearnerActor.Command> target) {
                if (message instanceof LearnerActor.Learn learn && learn.iteration() == iteration) {
                    throw new IllegalStateException("injected fault in the update of iteration " + iteration);
                }
                return target.apply(context, message);
            }
        }, learner);
    }

    private static List<String> checkpointsOf(Path run) throws IOException {
        try (var listing = Files.list(run.resolve("checkpoints"))) {
            return listing.map(path -> path.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertSameEnd(ExperimentRunner.Outcome resumed, Path run) throws IOException {
        RunSummary actual = resumed.summary().orElseThrow();
        assertEquals(ITERATIONS, resumed.iterations());
        assertEquals(expected.gold().orElseThrow().sft().mean(), actual.gold().orElseThrow().sft().mean());
        assertEquals(expected.gold().orElseThrow().tuned().mean(), actual.gold().orElseThrow().tuned().mean());
        assertEquals(expected.klFinal().mean(), actual.klFinal().mean());
        assertEquals(expected.klLastIteration(), actual.klLastIteration());
        assertEquals(expected.gold().orElseThrow().rmAccuracy(), actual.gold().orElseThrow().rmAccuracy());
        assertEquals(expected.rewardModelVersions(), actual.rewardModelVersions());
        assertArrayEquals(Files.readAllBytes(finalWeights(straight)), Files.readAllBytes(finalWeights(run)),
                "the final weights are bit for bit the same");
        assertEquals(deterministicMetrics(straight), deterministicMetrics(run));
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
