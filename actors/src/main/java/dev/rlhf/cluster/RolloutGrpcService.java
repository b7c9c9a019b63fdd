package dev.rlhf.cluster;

import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.actors.WeightsBoard;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.GenerateChunkResponse;
import dev.rlhf.proto.v1.LoadWeightsRequest;
import dev.rlhf.proto.v1.LoadWeightsResponse;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RolloutService in front of one {@link RolloutWorker} actor: each call is checked, then asked of the worker, so
 * calls are served one at a time in arrival order, exactly as the worker serves the coordinator in local mode.
 */
final class RolloutGrpcService extends RolloutServiceGrpc.RolloutServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(RolloutGrpcService.class);

    private final ActorRef<RolloutWorker.Command> worker;
    private final WeightsBoard board;
    private final ChunkRequestReader reader;
    private final Scheduler scheduler;
    private final Duration timeout;
    /**
     * The highest version loaded, -1 before the first. Versions must not go backwards within one coordinator's
     * run, yet a worker process serves run after run and each new run starts again from version 0. The floor
     * therefore lives as long as this service, which lives as long as its node: a node leaves the cluster when
     * its coordinator has gone ({@link CoordinatorWatch}) and the worker process starts a fresh node, with a fresh
     * service holding no version, for the next coordinator. (The {@link WeightsBoard} starts at the SFT weights,
     * version 0, but that is the node's own copy, not a version any coordinator loaded.) Two coordinators in one
     * cluster at once are not supported: the second's version 0 would be refused while the first's floor holds.
     */
    private long highestVersion = -1;

    /**
     * @param board where a restarted worker rebuilds its replica from; every loaded version is put there
     * @param maxWeightsHeaderBytes the longest safetensors JSON header read from a LoadWeights
     * @param timeout longest a call waits for the worker
     */
    RolloutGrpcService(ActorRef<RolloutWorker.Command> worker, WeightsBoard board, GptConfig config,
            int maxWeightsHeaderBytes, Scheduler scheduler, Duration timeout) {
        this.worker = worker;
        this.board = board;
        this.reader = new ChunkRequestReader(config, maxWeightsHeaderBytes);
        this.scheduler = scheduler;
        this.timeout = timeout;
    }

    /**
     * Loads a weight version; answers once the worker generates with it. A version lower than the highest this
     * service has accepted answers FAILED_PRECONDITION; the same version again is loaded again.
     */
    @Override
    public void loadWeights(LoadWeightsRequest request, StreamObserver<LoadWeightsResponse> observer) {
        WeightsSnapshot snapshot;
        try {
            if (request.getVersion() >= 0) { // a negative one is the reader's INVALID_ARGUMENT
                requireNotOlder(request.getVersion()); // before hashing and decoding the bytes of stale weights
            }
            snapshot = reader.weights(request);
            admit(snapshot.version());
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        board.replace(snapshot);
        AskPattern.<RolloutWorker.Command, RolloutWorker.WeightsLoaded>askWithStatus(worker,
                        replyTo -> new RolloutWorker.LoadWeights(snapshot, replyTo), timeout, scheduler)
                .whenComplete((loaded, failure) -> {
                    if (failure != null) {
                        observer.onError(internal("loading weights v" + snapshot.version(), failure));
                        return;
                    }
                    LOG.info("loaded weights v{}", loaded.weightVersion());
                    observer.onNext(LoadWeightsResponse.newBuilder().setVersion(loaded.weightVersion()).build());
                    observer.onCompleted();
                });
    }

    /** Generates one completion per request of the chunk. */
    @Override
    public void generateChunk(GenerateChunkRequest request, StreamObserver<GenerateChunkResponse> observer) {
        List<GenerationRequest> requests;
        try {
            requests = reader.requests(request);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        int chunk = request.getChunk();
        AskPattern.<RolloutWorker.Command, RolloutWorker.Rollout>askWithStatus(worker,
                        replyTo -> new RolloutWorker.Generate(chunk, requests, replyTo), timeout, scheduler)
                .whenComplete((rollout, failure) -> {
                    if (failure != null) {
                        observer.onError(internal("generating chunk " + chunk, failure));
                        return;
                    }
                    LOG.info("generated chunk {} ({} sequences) with weights v{} in {} s", chunk,
                            rollout.completions().size(), rollout.weightVersion(),
                            String.format("%.3f", rollout.seconds()));
                    observer.onNext(RolloutMessages.chunkResponse(rollout));
                    observer.onCompleted();
                });
    }

    private synchronized void requireNotOlder(long version) {
        if (version < highestVersion) {
            throw Status.FAILED_PRECONDITION.withDescription("version " + version + " is older than the version "
                    + highestVersion + " this worker already holds; weight versions must not go backwards")
                    .asRuntimeException();
        }
    }

    /** Records {@code version} as accepted, unless a newer one was accepted meanwhile. */
    private synchronized void admit(long version) {
        requireNotOlder(version);
        highestVersion = version;
    }

    private static StatusRuntimeException internal(String what, Throwable failure) {
        return Status.INTERNAL.withDescription(what + " failed: " + failure.getMessage()).withCause(failure)
                .asRuntimeException();
    }
}
