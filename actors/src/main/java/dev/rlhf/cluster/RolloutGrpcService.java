package dev.rlhf.cluster;

import com.google.protobuf.ByteString;
import dev.rlhf.actors.PublishedWeights;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.actors.WeightsBoard;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.GenerateChunkResponse;
import dev.rlhf.proto.v1.HeldWeightsRequest;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import dev.rlhf.proto.v1.WeightChunk;
import dev.rlhf.proto.v1.WeightSyncStatus;
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
    /** The versions synced to this node; lives as long as the node (see {@link WeightsAssembly} on why). */
    private final WeightsAssembly assembly;

    /**
     * @param board where a restarted worker rebuilds its replica from; every loaded version is put there
     * @param maxWeightsBytes the largest weight version taken in
     * @param maxWeightsHeaderBytes the longest safetensors JSON header read from a weight version
     * @param timeout longest a call waits for the worker
     */
    RolloutGrpcService(ActorRef<RolloutWorker.Command> worker, WeightsBoard board, GptConfig config,
            long maxWeightsBytes, int maxWeightsHeaderBytes, Scheduler scheduler, Duration timeout) {
        this.worker = worker;
        this.board = board;
        this.assembly = new WeightsAssembly(maxWeightsBytes);
        this.reader = new ChunkRequestReader(config, maxWeightsHeaderBytes);
        this.scheduler = scheduler;
        this.timeout = timeout;
    }

    /**
     * Takes a weight version in chunks; once it is complete and matches its digest, loads it and answers when the
     * worker generates with it.
     */
    @Override
    public StreamObserver<WeightChunk> syncWeights(StreamObserver<WeightSyncStatus> observer) {
        return new WeightSyncCall(assembly, this::load, observer);
    }

    /** The version the worker holds. */
    @Override
    public void heldWeights(HeldWeightsRequest request, StreamObserver<WeightSyncStatus> observer) {
        observer.onNext(assembly.status(0));
        observer.onCompleted();
    }

    private CompletableFuture<RolloutWorker.WeightsLoaded> load(long version, ByteString file) {
        WeightsSnapshot snapshot = reader.weights(version, file);
        board.replace(snapshot);
        return AskPattern.<RolloutWorker.Command, RolloutWorker.WeightsLoaded>askWithStatus(worker,
                        replyTo -> new RolloutWorker.LoadWeights(new PublishedWeights.InProcess(snapshot), replyTo),
                        timeout, scheduler)
                .toCompletableFuture()
                .whenComplete((loaded, failure) -> {
                    if (failure == null) {
                        LOG.info("loaded weights v{}", loaded.weightVersion());
                    }
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

    private static StatusRuntimeException internal(String what, Throwable failure) {
        return Status.INTERNAL.withDescription(what + " failed: " + failure.getMessage()).withCause(failure)
                .asRuntimeException();
    }
}
