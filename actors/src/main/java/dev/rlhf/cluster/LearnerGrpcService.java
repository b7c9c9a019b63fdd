package dev.rlhf.cluster;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.Algorithm;
import dev.rlhf.actors.LearnerActor;
import dev.rlhf.actors.OnlineLearner;
import dev.rlhf.actors.OnlineLearners;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.proto.v1.LearnRequest;
import dev.rlhf.proto.v1.LearnResponse;
import dev.rlhf.proto.v1.LearnerServiceGrpc;
import dev.rlhf.proto.v1.MeasureKlRequest;
import dev.rlhf.proto.v1.MeasureKlResponse;
import dev.rlhf.proto.v1.OpenRunRequest;
import dev.rlhf.proto.v1.OpenRunResponse;
import dev.rlhf.proto.v1.PublishWeightsRequest;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import dev.rlhf.proto.v1.SaveCheckpointRequest;
import dev.rlhf.proto.v1.SaveCheckpointResponse;
import dev.rlhf.proto.v1.UsePreferencesRequest;
import dev.rlhf.proto.v1.UsePreferencesResponse;
import dev.rlhf.proto.v1.WeightSyncStatus;
import dev.rlhf.rewardmodel.JudgedComparison;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LearnerService in front of one {@link LearnerActor}, the same actor a coordinator runs locally, over the learner
 * the coordinator's OpenRun asked for: built from the node's SFT policy (whose digest must be the coordinator's)
 * with the run's settings, or resumed from one of the node's checkpoints of the run. Each new weight version is
 * encoded once, off the call's thread, and sent to each rollout node a PublishWeights names ({@link WeightsSender}).
 * Calls are checked (INVALID_ARGUMENT naming the field; FAILED_PRECONDITION for another run, a version not held, a
 * checkpoint not here), then asked of the actor, so they are served in arrival order.
 */
final class LearnerGrpcService extends LearnerServiceGrpc.LearnerServiceImplBase implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LearnerGrpcService.class);
    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";

    /**
     * The run the node holds: its learner's actor and the newest weight version it published (null before the first
     * update of a fresh run, whose version 0 the coordinator sends itself).
     */
    private static final class OpenRun {
        final String run;
        final Algorithm algorithm;
        final ActorRef<LearnerActor.Command> learner;
        volatile WeightsSnapshot latest;

        OpenRun(String run, Algorithm algorithm, ActorRef<LearnerActor.Command> learner) {
            this.run = run;
            this.algorithm = algorithm;
            this.learner = learner;
        }
    }

    private final ActorSystem<?> system;
    private final Policy sft;
    private final ByteString sftSha256;
    private final NDManager manager;
    private final Path checkpointRoot;
    private final ClusterSettings cluster;
    private final Executor encoding;
    /** Each published version, encoded once however many rollout nodes it is sent to. */
    private final EncodedWeights encoded;
    /** Channels to the rollout nodes weights were sent to, by host:port. */
    private final Map<String, ManagedChannel> rolloutNodes = new ConcurrentHashMap<>();
    private volatile OpenRun open;
    /** Names each learner's actor: names are unique in an actor system, which may hold several services. */
    private static final AtomicInteger RUNS_OPENED = new AtomicInteger();

    /**
     * @param sft the node's SFT policy: the reference and, for a fresh run, the start
     * @param manager where the learners are built; the caller closes it after {@link #close}
     * @param checkpointRoot where each run's checkpoints go, in a directory named after the run
     */
    LearnerGrpcService(ActorSystem<?> system, Policy sft, NDManager manager, Path checkpointRoot,
            ClusterSettings cluster) {
        this.system = system;
        this.sft = sft;
        this.manager = manager;
        this.checkpointRoot = checkpointRoot;
        this.cluster = cluster;
        this.encoding = system.dispatchers().lookup(DispatcherSelector.blocking());
        this.encoded = new EncodedWeights(cluster.weightChunkBytes());
        this.sftSha256 = SnapshotSafetensors.sha256(WeightsSnapshot.of(sft.model().weights(), 0));
    }

    @Override
    public void openRun(OpenRunRequest request, StreamObserver<OpenRunResponse> observer) {
        try {
            String run = CollectorMessages.run(request.getRun());
            Algorithm algorithm = algorithm(request.getAlgorithm());
            Config config = config(request.getConfig());
            checkSft(request.getSftSha256());
            if (request.getResumeIteration() < -1) {
                throw LearnerMessages.invalid("resume_iteration must be -1 (a fresh learner) or an iteration >= 0 "
                        + "but was " + request.getResumeIteration());
            }
            long version = open(run, algorithm, config, request.getResumeIteration());
            observer.onNext(OpenRunResponse.newBuilder().setWeightVersion(version).build());
            observer.onCompleted();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        } catch (RuntimeException e) {
            LOG.error("opening run {} failed", request.getRun(), e);
            observer.onError(internal("opening run " + request.getRun(), e));
        }
    }

    /**
     * Replaces the run the node held with {@code run}'s learner, once that is built (a request that cannot be served
     * leaves the run held before in place); answers its weight version.
     */
    private synchronized long open(String run, Algorithm algorithm, Config config, int resumeIteration) {
        // the learner's replicas run one intra-op thread each, as the coordinator's would
        JniUtils.setNumThreads(config.getInt("rlhf.experiment.intra-op-threads"));
        Path runDir = checkpointRoot.resolve(run);
        OnlineLearner learner = resumeIteration < 0 ? fresh(algorithm, config)
                : resumed(runDir, algorithm, config, resumeIteration);
        ActorRef<LearnerActor.Command> actor;
        try {
            actor = system.systemActorOf(LearnerActor.create(learner, new RunCheckpoint(runDir)),
                    "learner-" + RUNS_OPENED.incrementAndGet(), DispatcherSelector.fromConfig(TENSOR_DISPATCHER));
        } catch (RuntimeException e) {
            learner.close();
            throw e;
        }
        OpenRun opened = new OpenRun(run, algorithm, actor);
        // a resumed run's rollout nodes get the checkpoint's version from here
        opened.latest = resumeIteration < 0 ? null : learner.initialSnapshot();
        if (open != null) {
            LOG.info("run {} replaces run {}", run, open.run);
            open.learner.tell(new LearnerActor.Close());
        }
        open = opened;
        LOG.info("learner of run {} ({}) at weights v{}{}", run, algorithm.key(), learner.version(),
                resumeIteration < 0 ? "" : ", resumed from its checkpoint of iteration " + resumeIteration);
        return learner.version();
    }

    private OnlineLearner fresh(Algorithm algorithm, Config config) {
        try {
            return OnlineLearners.create(algorithm, sft.model().weights(), sft.tokenizer(), manager, config);
        } catch (ConfigException | IllegalArgumentException e) {
            throw LearnerMessages.invalid("config: " + e.getMessage());
        }
    }

    private OnlineLearner resumed(Path runDir, Algorithm algorithm, Config config, int iteration) {
        Path checkpoint = runDir.resolve(RunCheckpoint.CHECKPOINTS_DIR).resolve(RunCheckpoint.directoryName(iteration));
        if (!Files.isRegularFile(checkpoint.resolve(RunCheckpoint.STATE_FILE))) {
            throw Status.FAILED_PRECONDITION.withDescription("resume_iteration " + iteration + ": this learner node "
                    + "has no checkpoint " + checkpoint + " (checkpoint-root " + checkpointRoot + ")")
                    .asRuntimeException();
        }
        try {
            return RunCheckpoint.resumeLearner(checkpoint, sft.model().weights(), sft.tokenizer(), manager, config,
                    algorithm);
        } catch (IOException | CheckpointException e) {
            throw Status.FAILED_PRECONDITION.withDescription("resuming from " + checkpoint + ": " + e.getMessage())
                    .asRuntimeException();
        } catch (ConfigException | IllegalArgumentException e) {
            throw LearnerMessages.invalid("config: " + e.getMessage());
        }
    }

    @Override
    public void learn(LearnRequest request, StreamObserver<LearnResponse> observer) {
        OpenRun run;
        LearnerMessages.Batch batch;
        float[] scores;
        try {
            run = openRun(request.getRun());
            if (request.getIteration() < 0) {
                throw LearnerMessages.invalid("iteration must be >= 0 but was " + request.getIteration());
            }
            batch = batch(request.getPromptsList(), request.getCompletionsList());
            scores = LearnerMessages.scores(request);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        int iteration = request.getIteration();
        AskPattern.<LearnerActor.Command, LearnerActor.Learned>askWithStatus(run.learner,
                        replyTo -> new LearnerActor.Learn(iteration, batch.prompts(), batch.completions(), scores,
                                replyTo), cluster.callTimeout(), system.scheduler())
                .whenComplete((learned, failure) -> {
                    if (failure != null) {
                        observer.onError(internal("the update of iteration " + iteration, failure));
                        return;
                    }
                    run.latest = learned.weights().inProcess();
                    observer.onNext(LearnResponse.newBuilder()
                            .setIteration(iteration)
                            .setWeightVersion(learned.weights().version())
                            .setKlToReference(learned.klToReference())
                            .addAllScalars(LearnerMessages.scalars(learned.scalars()))
                            .setSeconds(learned.seconds())
                            .build());
                    observer.onCompleted();
                });
    }

    @Override
    public void usePreferences(UsePreferencesRequest request, StreamObserver<UsePreferencesResponse> observer) {
        try {
            OpenRun run = openRun(request.getRun());
            if (!run.algorithm.offline()) {
                throw Status.FAILED_PRECONDITION.withDescription(run.algorithm.key() + " learns from rollouts, not "
                        + "from judged comparisons").asRuntimeException();
            }
            List<JudgedComparison> judged = LearnerMessages.judged(request);
            run.learner.tell(new LearnerActor.UsePreferences(judged)); // before any later call: the actor's order
            observer.onNext(UsePreferencesResponse.getDefaultInstance());
            observer.onCompleted();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    @Override
    public void measureKl(MeasureKlRequest request, StreamObserver<MeasureKlResponse> observer) {
        OpenRun run;
        LearnerMessages.Batch batch;
        try {
            run = openRun(request.getRun());
            batch = batch(request.getPromptsList(), request.getCompletionsList());
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        AskPattern.<LearnerActor.Command, LearnerActor.KlMeasured>askWithStatus(run.learner,
                        replyTo -> new LearnerActor.MeasureKl(batch.prompts(), batch.completions(), replyTo),
                        cluster.callTimeout(), system.scheduler())
                .whenComplete((measured, failure) -> {
                    if (failure != null) {
                        observer.onError(internal("measuring the KL to the reference", failure));
                        return;
                    }
                    MeasureKlResponse.Builder response = MeasureKlResponse.newBuilder();
                    for (double kl : measured.perCompletion()) {
                        response.addKl(kl);
                    }
                    observer.onNext(response.build());
                    observer.onCompleted();
                });
    }

    @Override
    public void saveCheckpoint(SaveCheckpointRequest request, StreamObserver<SaveCheckpointResponse> observer) {
        OpenRun run;
        RunCheckpoint.State state;
        try {
            run = openRun(request.getRun());
            state = LearnerMessages.state(request);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        AskPattern.<LearnerActor.Command, LearnerActor.CheckpointSaved>askWithStatus(run.learner,
                        replyTo -> new LearnerActor.SaveCheckpoint(state, replyTo), cluster.callTimeout(),
                        system.scheduler())
                .whenComplete((saved, failure) -> {
                    if (failure != null) {
                        observer.onError(internal("the checkpoint of iteration " + state.iteration(), failure));
                        return;
                    }
                    String stateJson;
                    try {
                        stateJson = Files.readString(saved.path().resolve(RunCheckpoint.STATE_FILE),
                                StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        observer.onError(internal("reading back " + saved.path(), e));
                        return;
                    }
                    observer.onNext(SaveCheckpointResponse.newBuilder().setIteration(saved.iteration())
                            .setPath(saved.path().toAbsolutePath().toString()).setStateJson(stateJson).build());
                    observer.onCompleted();
                });
    }

    @Override
    public void publishWeights(PublishWeightsRequest request, StreamObserver<WeightSyncStatus> observer) {
        OpenRun run;
        try {
            run = openRun(request.getRun());
            if (request.getHost().isEmpty()) {
                throw LearnerMessages.invalid("host must name the rollout node's host");
            }
            if (request.getPort() < 1 || request.getPort() > 65535) {
                throw LearnerMessages.invalid("port must be in [1, 65535] but was " + request.getPort());
            }
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        WeightsSnapshot latest = run.latest;
        if (latest == null || latest.version() != request.getVersion()) {
            observer.onError(Status.FAILED_PRECONDITION.withDescription("version " + request.getVersion() + " is not "
                    + "the learner's newest, " + (latest == null ? "which has made none yet" : "v" + latest.version()))
                    .asRuntimeException());
            return;
        }
        String node = request.getHost() + ":" + request.getPort();
        ManagedChannel channel = rolloutNodes.computeIfAbsent(node, key -> cluster.credentials()
                .channelBuilder(request.getHost(), request.getPort())
                .maxInboundMessageSize(cluster.grpcMessageBytes()).build());
        encoded.of(latest, encoding).thenCompose(chunks -> WeightsSender.sync(answer -> RolloutServiceGrpc
                        .newStub(channel)
                        .withDeadlineAfter(cluster.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
                        .withOnReadyThreshold(WeightsSender.readyThreshold(cluster.weightChunkBytes()))
                        .syncWeights(answer), chunks, cluster.weightSyncAttempts(), "rollout node " + node))
                .whenComplete((status, failure) -> {
                    if (failure == null) {
                        observer.onNext(status);
                        observer.onCompleted();
                        return;
                    }
                    // the coordinator drops a node it cannot reach: so does this cache
                    if (rolloutNodes.remove(node, channel)) {
                        channel.shutdownNow();
                    }
                    Throwable cause = Failures.cause(failure);
                    observer.onError(Status.UNAVAILABLE.withDescription("sending weights v" + request.getVersion()
                            + " to rollout node " + node + ": " + cause.getMessage()).withCause(cause)
                            .asRuntimeException());
                });
    }

    private LearnerMessages.Batch batch(List<dev.rlhf.proto.v1.PromptTokens> prompts,
            List<dev.rlhf.proto.v1.RolloutCompletion> completions) {
        return LearnerMessages.batch(prompts, completions, sft.model().config().vocabSize(),
                sft.model().config().contextLength());
    }

    private OpenRun openRun(String run) {
        OpenRun current = open;
        if (current == null || !current.run.equals(run)) {
            throw Status.FAILED_PRECONDITION.withDescription("run \"" + run + "\" is not open on this learner node"
                    + (current == null ? " (it holds none: OpenRun first)" : " (it holds " + current.run + ")"))
                    .asRuntimeException();
        }
        return current;
    }

    private static Algorithm algorithm(String key) {
        try {
            return Algorithm.parse(key);
        } catch (IllegalArgumentException e) {
            throw LearnerMessages.invalid("algorithm: " + e.getMessage());
        }
    }

    private static Config config(String hocon) {
        try {
            Config config = ConfigFactory.parseString(hocon).resolve();
            config.getInt("rlhf.experiment.intra-op-threads"); // read here so a config without it is INVALID_ARGUMENT
            return config;
        } catch (ConfigException e) {
            throw LearnerMessages.invalid("config: " + e.getMessage());
        }
    }

    private void checkSft(ByteString digest) {
        if (digest.size() != 32) {
            throw LearnerMessages.invalid("sft_sha256 must be 32 bytes but holds " + digest.size());
        }
        if (!digest.equals(sftSha256)) {
            throw Status.FAILED_PRECONDITION.withDescription("sft_sha256: the coordinator's SFT policy is not this "
                    + "node's (rlhf.cluster.worker.policy-checkpoint, or the experiment's): a learner starts from and "
                    + "is held near the coordinator's").asRuntimeException();
        }
    }

    private static StatusRuntimeException internal(String what, Throwable failure) {
        Throwable cause = Failures.cause(failure);
        return Status.INTERNAL.withDescription(what + " failed: " + cause.getMessage()).withCause(cause)
                .asRuntimeException();
    }

    /** Closes the channels to the rollout nodes; the learner closes with its actor, when the node's system stops. */
    @Override
    public void close() {
        rolloutNodes.values().forEach(ManagedChannel::shutdownNow);
    }
}
