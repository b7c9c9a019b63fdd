package dev.rlhf.serve;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.rlhf.run.ExperimentHandle;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.actors.ExperimentSettings;
import dev.rlhf.actors.ExperimentTimeouts;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.proto.v1.CheckpointNowRequest;
import dev.rlhf.proto.v1.CheckpointNowResponse;
import dev.rlhf.proto.v1.ExperimentServiceGrpc;
import dev.rlhf.proto.v1.ExperimentStatus;
import dev.rlhf.proto.v1.GetExperimentStatusRequest;
import dev.rlhf.proto.v1.IterationMetrics;
import dev.rlhf.proto.v1.StartExperimentRequest;
import dev.rlhf.proto.v1.StopExperimentRequest;
import dev.rlhf.proto.v1.WatchMetricsRequest;
import dev.rlhf.policy.ppo.PpoSettings;
import dev.rlhf.rewardmodel.RewardTrainingSettings;
import dev.rlhf.rewardmodel.annotators.AnnotatorPanelSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ExperimentService: runs one experiment at a time in this process through {@link ExperimentRunner}, and keeps
 * every experiment it ran, by id (the run directory), for status and metrics.
 */
public final class ExperimentGrpcService extends ExperimentServiceGrpc.ExperimentServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(ExperimentGrpcService.class);

    private final ExperimentRequestReader reader;
    private final ExperimentLauncher launcher;
    private final Map<String, TrackedExperiment> experiments = new LinkedHashMap<>();
    private TrackedExperiment latest;

    /**
     * @param base the configuration each request's {@code config_hocon} is laid over, less its {@code rlhf.serve}
     *     section (a run needs none of it, and it holds the bearer token)
     * @param settings where clients' runs may go and which policy checkpoints they may start from
     */
    public ExperimentGrpcService(Config base, ExperimentServeSettings settings, ExperimentLauncher launcher) {
        this.reader = new ExperimentRequestReader(base, settings);
        this.launcher = launcher;
    }

    /**
     * Checks the request against the server's rules (see {@link ExperimentRequestReader}) and validates the
     * configuration, then starts the run; answers with its first status.
     */
    @Override
    public void startExperiment(StartExperimentRequest request, StreamObserver<ExperimentStatus> observer) {
        Config config;
        ExperimentSettings settings;
        try {
            config = reader.read(request.getConfigHocon());
            settings = ExperimentSettings.from(config);
            ExperimentTimeouts.from(config);
            PpoSettings.from(config);
            RewardTrainingSettings.from(config);
            AnnotatorPanelSettings.from(config);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        } catch (ConfigException | IllegalArgumentException e) {
            observer.onError(invalid("config_hocon: " + e.getMessage()));
            return;
        }
        String id = settings.runDir().toString();
        synchronized (this) {
            if (latest != null && !latest.ended()) {
                observer.onError(Status.FAILED_PRECONDITION.withDescription("experiment " + latest.id()
                        + " is running; stop it first (one experiment runs at a time)").asRuntimeException());
                return;
            }
            if (!request.getResume() && ExperimentRunner.holdsRun(settings.runDir())) {
                observer.onError(Status.ALREADY_EXISTS.withDescription("run directory " + id + " already holds a "
                        + "run: set resume to continue it, or choose another rlhf.experiment.run-dir")
                        .asRuntimeException());
                return;
            }
            TrackedExperiment tracked;
            try {
                tracked = new TrackedExperiment(id, settings.runDir(), settings.iterations(),
                        request.getResume() ? iterationsCheckpointed(settings.runDir()) : 0);
                tracked.attach(launcher.start(config, request.getResume(), tracked::onEvent));
            } catch (Exception e) {
                LOG.error("experiment {} failed to start", id, e);
                observer.onError(Status.INTERNAL.withDescription("experiment failed to start; see the server's log")
                        .asRuntimeException());
                return;
            }
            experiments.put(id, tracked);
            latest = tracked;
            observer.onNext(tracked.status());
        }
        observer.onCompleted();
    }

    /** Asks the experiment to stop at its next iteration boundary. */
    @Override
    public void stopExperiment(StopExperimentRequest request, StreamObserver<ExperimentStatus> observer) {
        Optional<TrackedExperiment> tracked = running(request.getExperimentId(), observer);
        if (tracked.isEmpty()) {
            return;
        }
        tracked.get().stopping();
        tracked.get().handle().stop();
        observer.onNext(tracked.get().status());
        observer.onCompleted();
    }

    @Override
    public void getExperimentStatus(GetExperimentStatusRequest request, StreamObserver<ExperimentStatus> observer) {
        Optional<TrackedExperiment> tracked = find(request.getExperimentId(), observer);
        if (tracked.isPresent()) {
            observer.onNext(tracked.get().status());
            observer.onCompleted();
        }
    }

    /** Answers once the checkpoint of the next iteration boundary is on disk. */
    @Override
    public void checkpointNow(CheckpointNowRequest request, StreamObserver<CheckpointNowResponse> observer) {
        Optional<TrackedExperiment> tracked = running(request.getExperimentId(), observer);
        if (tracked.isEmpty()) {
            return;
        }
        ExperimentHandle handle = tracked.get().handle();
        String id = tracked.get().id();
        handle.checkpointNow().whenComplete((saved, error) -> {
            CheckpointNowResponse response;
            try {
                if (error != null) {
                    throw error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                }
                response = CheckpointNowResponse.newBuilder()
                        .setIteration(saved.iteration())
                        .setCheckpointPath(saved.path().toString())
                        .build();
            } catch (Throwable failure) {
                // the detail may name server paths: it goes to the log, the client gets a fixed message
                LOG.error("checkpoint of experiment {} failed", id, failure);
                observer.onError(Status.INTERNAL.withDescription("checkpoint failed; see the server's log")
                        .asRuntimeException());
                return;
            }
            observer.onNext(response);
            observer.onCompleted();
        });
    }

    /** Streams iteration metrics until the experiment ends or the client cancels. */
    @Override
    public void watchMetrics(WatchMetricsRequest request, StreamObserver<IterationMetrics> observer) {
        Optional<TrackedExperiment> tracked = find(request.getExperimentId(), observer);
        if (tracked.isEmpty()) {
            return;
        }
        ServerCallStreamObserver<IterationMetrics> call = (ServerCallStreamObserver<IterationMetrics>) observer;
        Runnable[] cancel = {() -> {}};
        call.setOnCancelHandler(() -> cancel[0].run());
        cancel[0] = tracked.get().watch(request.getFromStart(), metrics -> {
            if (!call.isCancelled()) {
                call.onNext(metrics);
            }
        }, () -> {
            if (!call.isCancelled()) {
                call.onCompleted();
            }
        });
    }

    /**
     * Stops the running experiment, if any, at its next iteration boundary (with a checkpoint to resume from) and
     * waits for it to end, for a server shutting down.
     */
    public void stopRunning() {
        TrackedExperiment running;
        synchronized (this) {
            running = latest == null || latest.ended() ? null : latest;
        }
        if (running == null) {
            return;
        }
        LOG.info("stopping experiment {} at its next iteration boundary", running.id());
        running.stopping();
        running.handle().stop();
        try {
            running.handle().await();
        } catch (Exception e) {
            LOG.warn("experiment {} ended with an error while stopping", running.id(), e);
        }
    }

    private synchronized Optional<TrackedExperiment> find(String id, StreamObserver<?> observer) {
        TrackedExperiment tracked = id.isEmpty() ? latest : experiments.get(id);
        if (tracked == null) {
            observer.onError(Status.NOT_FOUND.withDescription(id.isEmpty()
                    ? "no experiment has been started" : "experiment_id " + id + " is not known to this server")
                    .asRuntimeException());
            return Optional.empty();
        }
        return Optional.of(tracked);
    }

    private Optional<TrackedExperiment> running(String id, StreamObserver<?> observer) {
        Optional<TrackedExperiment> tracked = find(id, observer);
        if (tracked.isPresent() && tracked.get().ended()) {
            observer.onError(Status.FAILED_PRECONDITION.withDescription("experiment " + tracked.get().id()
                    + " has ended (" + tracked.get().status().getState() + ")").asRuntimeException());
            return Optional.empty();
        }
        return tracked;
    }

    private static int iterationsCheckpointed(Path runDir) throws IOException {
        Optional<Path> checkpoint = new RunCheckpoint(runDir).latest();
        return checkpoint.isPresent() ? RunCheckpoint.readState(checkpoint.get()).iteration() : 0;
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
