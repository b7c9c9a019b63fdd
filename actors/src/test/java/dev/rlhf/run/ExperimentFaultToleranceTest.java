package dev.rlhf.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rlhf.actors.RolloutWorker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rollout worker whose native tensors fail under it: its supervisor restarts it, the coordinator retries its
 * chunk on the other worker, and the run goes on to its end. The retried chunk's completions are those the run
 * without the fault got (chunks are seeded per request, so the worker that generates one does not matter), so
 * the whole run is the same: evaluations, summary and final weights bit for bit.
 */
class ExperimentFaultToleranceTest {
    private static final int ITERATIONS = 3;

    @Test
    void crashedWorkerIsRestartedAndItsChunkRetriedWithoutChangingTheRun(@TempDir Path dir) throws Exception {
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        Path straight = dir.resolve("straight");
        RunSummary expected = new ExperimentRunner(TinyExperiments.config(straight, ITERATIONS), sft,
                TinyExperiments.quiet()).run();

        Path faulty = dir.resolve("faulty");
        AtomicInteger replicasOfWorker0 = new AtomicInteger();
        RunSummary actual = new ExperimentRunner(TinyExperiments.config(faulty, ITERATIONS), sft,
                TinyExperiments.quiet(), (worker, factory) -> worker != 0 ? factory : () -> {
                    RolloutWorker.PolicyReplica replica = factory.create();
                    if (replicasOfWorker0.incrementAndGet() == 1) {
                        replica.model().close(); // its first generation fails on released native memory
                    }
                    return replica;
                }).run();

        assertEquals(2, replicasOfWorker0.get(), "worker 0 was restarted once, with a fresh replica");
        assertEquals(expected.gold().orElseThrow().sft().mean(), actual.gold().orElseThrow().sft().mean(),
                "the retried chunk gave the same completions");
        assertEquals(ITERATIONS, actual.iterations());
        assertEquals(expected.gold().orElseThrow().tuned().mean(), actual.gold().orElseThrow().tuned().mean());
        assertEquals(expected.klFinal().mean(), actual.klFinal().mean());
        assertArrayEquals(Files.readAllBytes(finalWeights(straight)), Files.readAllBytes(finalWeights(faulty)),
                "final weights of the run with and without the fault");
    }

    private static Path finalWeights(Path run) {
        return TinyExperiments.weightsAt(run, ITERATIONS);
    }
}
