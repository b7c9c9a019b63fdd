package dev.rlhf.metrics;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;

/**
 * A run's metrics in one call per iteration: each {@link #record} appends a line to {@code metrics.jsonl},
 * an event to a TensorBoard event file (both in the run directory, so {@code tensorboard --logdir} on a
 * directory of runs compares them) and, when a console is attached, a progress line.
 *
 * <p>Scalar names are the caller's and double as TensorBoard tags, which TensorBoard groups by the text
 * before the first {@code /}: {@code reward/rm_mean}, {@code kl/to_reference}, {@code ppo/policy_loss},
 * {@code perf/tokens_per_s}, {@code time/rollout_s}. Not thread-safe.
 */
public final class RunMetrics implements AutoCloseable {

    private final MetricsJsonlWriter jsonl;
    private final TensorBoardEventWriter tensorBoard;
    private final Optional<ConsoleProgress> console;
    private final InstantSource clock;

    /**
     * Records into the given writers, which it then owns and closes, stamping each iteration with
     * {@code clock}'s time.
     */
    public RunMetrics(MetricsJsonlWriter jsonl, TensorBoardEventWriter tensorBoard,
            Optional<ConsoleProgress> console, InstantSource clock) {
        this.jsonl = jsonl;
        this.tensorBoard = tensorBoard;
        this.console = console;
        this.clock = clock;
    }

    /**
     * Opens {@code runDir}'s {@code metrics.jsonl} for appending and a new event file there, creating the
     * directory if needed; prints nothing.
     *
     * @throws IOException if either file cannot be opened
     */
    public static RunMetrics open(Path runDir) throws IOException {
        return open(runDir, Optional.empty());
    }

    /**
     * Like {@link #open(Path)}, and also shows each iteration on {@code console}.
     *
     * @throws IOException if either file cannot be opened
     */
    public static RunMetrics open(Path runDir, ConsoleProgress console) throws IOException {
        return open(runDir, Optional.of(console));
    }

    /**
     * Opens {@code runDir}'s metrics for a run resumed after {@code iterationsDone} iterations: drops the lines of
     * later iterations from {@code metrics.jsonl} (the resumed run records them again) and starts a new event
     * file with a restart marker, so TensorBoard shows each iteration once.
     *
     * @throws IOException if a file cannot be read, replaced or opened
     */
    public static RunMetrics resume(Path runDir, ConsoleProgress console, int iterationsDone) throws IOException {
        MetricsJsonlWriter.keepThrough(runDir.resolve(MetricsJsonlWriter.FILE_NAME), iterationsDone);
        RunMetrics metrics = open(runDir, Optional.of(console));
        try {
            metrics.tensorBoard.writeRestart(iterationsDone + 1, metrics.clock.instant(),
                    "resumed after iteration " + iterationsDone);
        } catch (IOException e) {
            metrics.close();
            throw e;
        }
        return metrics;
    }

    private static RunMetrics open(Path runDir, Optional<ConsoleProgress> console) throws IOException {
        TensorBoardEventWriter tensorBoard = TensorBoardEventWriter.create(runDir);
        try {
            MetricsJsonlWriter jsonl = MetricsJsonlWriter.open(runDir.resolve(MetricsJsonlWriter.FILE_NAME));
            return new RunMetrics(jsonl, tensorBoard, console, InstantSource.system());
        } catch (IOException e) {
            tensorBoard.close();
            throw e;
        }
    }

    /**
     * Records {@code scalars} for {@code iteration} (the TensorBoard step), both files stamped with the
     * same wall time; both are on disk when this returns.
     *
     * @throws IllegalArgumentException if a scalar is named {@code iteration} or {@code wall_time}
     * @throws NullPointerException if a value is null
     * @throws IOException if a write fails
     */
    public void record(int iteration, Map<String, Double> scalars) throws IOException {
        Instant now = clock.instant();
        jsonl.write(iteration, now, scalars);
        tensorBoard.writeScalars(iteration, now, scalars);
        console.ifPresent(progress -> progress.show(iteration, scalars));
    }

    @Override
    public void close() throws IOException {
        try (jsonl; tensorBoard) {
            // try-with-resources closes both even when the first close fails
        }
    }
}
