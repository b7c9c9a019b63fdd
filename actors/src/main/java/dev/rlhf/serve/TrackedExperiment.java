package dev.rlhf.serve;

import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.run.ExperimentHandle;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import dev.rlhf.proto.v1.ExperimentState;
import dev.rlhf.proto.v1.ExperimentStatus;
import dev.rlhf.proto.v1.IterationMetrics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One experiment as the ExperimentService sees it: its lifecycle state, the metrics of every iteration it ran
 * in this process, and the watchers to send new ones to. Fed by the run's events (on an actor thread) and its
 * outcome; read by gRPC threads, so every access is synchronised.
 */
final class TrackedExperiment {
    private final String id;
    private final Path runDir;
    private final int iterationsTotal;
    private final List<IterationMetrics> history = new ArrayList<>();
    private final List<Consumer<IterationMetrics>> watchers = new ArrayList<>();
    private final List<Runnable> endWatchers = new ArrayList<>();
    private ExperimentHandle handle;
    private ExperimentState state = ExperimentState.EXPERIMENT_STATE_STARTING;
    private int iterationsDone;
    private int rewardModelVersion;
    private String checkpointPath = "";
    private String failure = "";

    /** @param iterationsDone iterations completed before this process started it (a resumed run's checkpoint) */
    TrackedExperiment(String id, Path runDir, int iterationsTotal, int iterationsDone) {
        this.id = id;
        this.runDir = runDir;
        this.iterationsTotal = iterationsTotal;
        this.iterationsDone = iterationsDone;
    }

    String id() {
        return id;
    }

    synchronized void attach(ExperimentHandle runHandle) {
        handle = runHandle;
        runHandle.outcome().whenComplete(this::onEnd);
    }

    synchronized ExperimentHandle handle() {
        return handle;
    }

    synchronized boolean ended() {
        return state == ExperimentState.EXPERIMENT_STATE_STOPPED || state == ExperimentState.EXPERIMENT_STATE_FINISHED
                || state == ExperimentState.EXPERIMENT_STATE_FAILED;
    }

    synchronized void stopping() {
        if (!ended()) {
            state = ExperimentState.EXPERIMENT_STATE_STOPPING;
        }
    }

    /** Takes in one of the run's events. */
    synchronized void onEvent(ExperimentCoordinator.Event event) {
        if (event instanceof ExperimentCoordinator.IterationDone done) {
            iterationsDone = done.iteration() + 1;
            if (state == ExperimentState.EXPERIMENT_STATE_STARTING) {
                state = ExperimentState.EXPERIMENT_STATE_RUNNING;
            }
            IterationMetrics metrics = IterationMetrics.newBuilder()
                    .setExperimentId(id)
                    .setIteration(iterationsDone)
                    .putAllScalars(done.scalars())
                    .build();
            history.add(metrics);
            watchers.forEach(watcher -> watcher.accept(metrics));
        } else if (event instanceof ExperimentCoordinator.RewardModelTrained trained) {
            rewardModelVersion = trained.info().version();
        }
    }

    /**
     * Sends {@code onMetrics} every new iteration's metrics (after the recorded ones when {@code fromStart}) and
     * runs {@code onEnd} when the experiment ends (at once if it has). Returns what cancels the watch.
     */
    synchronized Runnable watch(boolean fromStart, Consumer<IterationMetrics> onMetrics, Runnable onEnd) {
        if (fromStart) {
            history.forEach(onMetrics);
        }
        if (ended()) {
            onEnd.run();
            return () -> {};
        }
        watchers.add(onMetrics);
        endWatchers.add(onEnd);
        return () -> {
            synchronized (this) {
                watchers.remove(onMetrics);
                endWatchers.remove(onEnd);
            }
        };
    }

    synchronized ExperimentStatus status() {
        ExperimentStatus.Builder status = ExperimentStatus.newBuilder()
                .setExperimentId(id)
                .setState(state)
                .setIterationsDone(iterationsDone)
                .setIterationsTotal(iterationsTotal)
                .setRewardModelVersion(rewardModelVersion)
                .setCheckpointPath(checkpointPath)
                .setFailure(failure);
        if (!history.isEmpty()) {
            status.putAllLatestMetrics(history.get(history.size() - 1).getScalarsMap());
        }
        if (state == ExperimentState.EXPERIMENT_STATE_FINISHED) {
            status.setSummaryPath(runDir.resolve(RunSummary.FILE_NAME).toString());
        }
        return status.build();
    }

    private synchronized void onEnd(ExperimentRunner.Outcome outcome, Throwable error) {
        if (error != null) {
            state = ExperimentState.EXPERIMENT_STATE_FAILED;
            failure = String.valueOf(error.getMessage());
        } else if (outcome.stoppedAt().isPresent()) {
            state = ExperimentState.EXPERIMENT_STATE_STOPPED;
            checkpointPath = outcome.stoppedAt().get().toString();
        } else {
            state = ExperimentState.EXPERIMENT_STATE_FINISHED;
        }
        watchers.clear();
        endWatchers.forEach(Runnable::run);
        endWatchers.clear();
    }
}
