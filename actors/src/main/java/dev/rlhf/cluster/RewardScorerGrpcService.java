package dev.rlhf.cluster;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.ByteString;
import dev.rlhf.actors.RewardScorerActor;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.proto.v1.HeldWeightsRequest;
import dev.rlhf.proto.v1.RewardScorerServiceGrpc;
import dev.rlhf.proto.v1.ScoreChunkRequest;
import dev.rlhf.proto.v1.ScoreChunkResponse;
import dev.rlhf.proto.v1.UseRewardVersionRequest;
import dev.rlhf.proto.v1.UseRewardVersionResponse;
import dev.rlhf.proto.v1.WeightChunk;
import dev.rlhf.proto.v1.WeightSyncStatus;
import dev.rlhf.rewardmodel.RewardModel;
import dev.rlhf.rewardmodel.RewardNormalizer;
import dev.rlhf.rewardmodel.RewardScorer;
import dev.rlhf.rewardmodel.SequenceEncoder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RewardScorerService in front of one {@link RewardScorerActor}, the same actor a coordinator runs locally: a synced
 * version is held as tensors until UseVersion builds the model from it (with the coordinator's sizes, normaliser and
 * batch size, so scores match the coordinator's bit for bit), and the model the actor used before is closed once it
 * uses the new one. Each call is checked, then asked of the actor, so calls are served in arrival order.
 */
final class RewardScorerGrpcService extends RewardScorerServiceGrpc.RewardScorerServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(RewardScorerGrpcService.class);

    private final ActorRef<RewardScorerActor.Command> scorer;
    private final TextTokenizer tokenizer;
    private final NDManager manager;
    private final RewardRequestReader reader;
    private final int maxWeightsHeaderBytes;
    private final Scheduler scheduler;
    private final Duration timeout;
    /** The versions synced to this node; lives as long as the node (see {@link WeightsAssembly} on why). */
    private final WeightsAssembly assembly;
    /** The last version synced, as tensors, until a newer one is. */
    private WeightsSnapshot held;
    /** The model the actor scores with, and its version; null and -1 before the first UseVersion. */
    private RewardModel inUse;
    private int versionInUse = -1;

    /**
     * @param tokenizer the node's (its policy checkpoint's), which every reward model it scores with must share
     * @param manager where the models are built; the caller closes it after {@link #close}
     * @param timeout longest a call waits for the actor
     */
    RewardScorerGrpcService(ActorRef<RewardScorerActor.Command> scorer, TextTokenizer tokenizer, NDManager manager,
            long maxWeightsBytes, int maxWeightsHeaderBytes, Scheduler scheduler, Duration timeout) {
        this.scorer = scorer;
        this.tokenizer = tokenizer;
        this.manager = manager;
        this.reader = new RewardRequestReader(tokenizer.vocabSize());
        this.maxWeightsHeaderBytes = maxWeightsHeaderBytes;
        this.scheduler = scheduler;
        this.timeout = timeout;
        this.assembly = new WeightsAssembly(maxWeightsBytes);
    }

    @Override
    public StreamObserver<WeightChunk> syncWeights(StreamObserver<WeightSyncStatus> observer) {
        return new WeightSyncCall(assembly, this::hold, observer);
    }

    @Override
    public void heldWeights(HeldWeightsRequest request, StreamObserver<WeightSyncStatus> observer) {
        observer.onNext(assembly.status(0));
        observer.onCompleted();
    }

    /** Builds the scorer of a synced version and has the actor use it; answers once it does. */
    @Override
    public void useVersion(UseRewardVersionRequest request, StreamObserver<UseRewardVersionResponse> observer) {
        RewardModel model;
        RewardNormalizer normalizer;
        try {
            GptConfig config = reader.config(request);
            normalizer = RewardRequestReader.normalizer(request);
            model = build(request, config);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        RewardScorer built = new RewardScorer(model, new SequenceEncoder(tokenizer, request.getContextLength()),
                normalizer, request.getBatchSize());
        int version = request.getVersion();
        AskPattern.<RewardScorerActor.Command, RewardScorerActor.VersionInUse>askWithStatus(scorer,
                        replyTo -> new RewardScorerActor.UseVersion(version, built, replyTo), timeout, scheduler)
                .whenComplete((inUseNow, failure) -> {
                    if (failure != null) {
                        model.close();
                        observer.onError(internal("using reward model v" + version, failure));
                        return;
                    }
                    retire(model, version);
                    LOG.info("scoring with reward model v{}", version);
                    observer.onNext(UseRewardVersionResponse.newBuilder().setVersion(version).build());
                    observer.onCompleted();
                });
    }

    @Override
    public void scoreChunk(ScoreChunkRequest request, StreamObserver<ScoreChunkResponse> observer) {
        List<PromptResponse> pairs;
        try {
            pairs = RewardRequestReader.pairs(request);
            requireInUse(request.getRewardModelVersion());
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        int chunk = request.getChunk();
        AskPattern.<RewardScorerActor.Command, RewardScorerActor.Scored>askWithStatus(scorer,
                        replyTo -> new RewardScorerActor.Score(chunk, pairs, replyTo), timeout, scheduler)
                .whenComplete((scored, failure) -> {
                    if (failure != null) {
                        lostVersion(); // the actor failed: its supervisor restarts it holding no version
                        observer.onError(internal("scoring chunk " + chunk, failure));
                        return;
                    }
                    if (scored.rewardModelVersion() != request.getRewardModelVersion()) {
                        observer.onError(Status.FAILED_PRECONDITION.withDescription("reward_model_version "
                                + request.getRewardModelVersion() + " was replaced by v"
                                + scored.rewardModelVersion() + " while the chunk waited").asRuntimeException());
                        return;
                    }
                    LOG.info("scored chunk {} ({} pairs) with reward model v{} in {} s", chunk, pairs.size(),
                            scored.rewardModelVersion(), String.format("%.3f", scored.seconds()));
                    ScoreChunkResponse.Builder response = ScoreChunkResponse.newBuilder().setChunk(chunk)
                            .setRewardModelVersion(scored.rewardModelVersion()).setSeconds(scored.seconds());
                    for (float score : scored.scores()) {
                        response.addScores(score);
                    }
                    observer.onNext(response.build());
                    observer.onCompleted();
                });
    }

    /** Closes the model in use; the actor has stopped by now. */
    synchronized void close() {
        if (inUse != null) {
            inUse.close();
            inUse = null;
        }
    }

    private CompletableFuture<Void> hold(long version, ByteString file) {
        WeightsSnapshot snapshot = SnapshotSafetensors.decodeSynced(file, version, maxWeightsHeaderBytes);
        synchronized (this) {
            held = snapshot;
        }
        LOG.info("holding reward model v{} ({} bytes)", version, file.size());
        return CompletableFuture.completedFuture(null);
    }

    /** A reward model of {@code config} with the held tensors of the requested version. */
    private RewardModel build(UseRewardVersionRequest request, GptConfig config) {
        WeightsSnapshot snapshot;
        synchronized (this) {
            snapshot = held;
        }
        WeightSyncStatus status = assembly.status(0);
        if (snapshot == null || status.getVersion() != request.getVersion()
                || !status.getSha256().equals(request.getSha256())) {
            throw Status.FAILED_PRECONDITION.withDescription("version " + request.getVersion() + " is not the "
                    + "version this node holds (v" + status.getVersion() + "); sync its weights first")
                    .asRuntimeException();
        }
        RewardModel model = RewardModel.random(config, manager, 0);
        try {
            snapshot.loadInto(model.weights());
        } catch (IllegalArgumentException e) {
            model.close();
            throw Status.INVALID_ARGUMENT.withDescription("shape does not fit the synced weights: " + e.getMessage())
                    .asRuntimeException();
        }
        return model;
    }

    /** The actor uses {@code model} now: the one before is closed. */
    private synchronized void retire(RewardModel model, int version) {
        if (inUse != null && inUse != model) {
            inUse.close();
        }
        inUse = model;
        versionInUse = version;
    }

    private synchronized void lostVersion() {
        versionInUse = -1;
    }

    private synchronized void requireInUse(int version) {
        if (version != versionInUse) {
            throw Status.FAILED_PRECONDITION.withDescription("reward_model_version " + version + " is not the version "
                    + "this node scores with (v" + versionInUse + "); have it use that version first")
                    .asRuntimeException();
        }
    }

    private static StatusRuntimeException internal(String what, Throwable failure) {
        return Status.INTERNAL.withDescription(what + " failed: " + failure.getMessage()).withCause(failure)
                .asRuntimeException();
    }
}
