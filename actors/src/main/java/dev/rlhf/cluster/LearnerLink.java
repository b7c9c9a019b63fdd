package dev.rlhf.cluster;

import dev.rlhf.proto.v1.LearnerServiceGrpc;
import dev.rlhf.proto.v1.PublishWeightsRequest;
import dev.rlhf.proto.v1.WeightSyncStatus;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The run's learner node as the rollout node proxies reach it ({@code rlhf.cluster.learner = remote}): once
 * {@link RemoteLearner} has opened the run there, a rollout node's proxy asks the learner node to send a version it
 * made straight to that rollout node. Asked before the run is open, the call waits for it. Thread-safe.
 */
public final class LearnerLink {
    private record Opened(ManagedChannel channel, String run) {}

    private final CompletableFuture<Opened> opened = new CompletableFuture<>();
    private final Duration callTimeout;

    /** @param callTimeout the deadline of a PublishWeights call (rlhf.cluster.call-timeout) */
    public LearnerLink(Duration callTimeout) {
        this.callTimeout = callTimeout;
    }

    /** The learner node holds the run {@code run}, reached on {@code channel}. */
    void opened(ManagedChannel channel, String run) {
        opened.complete(new Opened(channel, run));
    }

    /** No learner node will hold the run: every call waiting, and every later one, fails with {@code cause}. */
    void failed(Throwable cause) {
        opened.completeExceptionally(cause);
    }

    /** Has the learner node send its weight version {@code version} to the rollout node at {@code node}. */
    CompletableFuture<WeightSyncStatus> publish(long version, NodeEndpoint.Address node) {
        return opened.thenCompose(learner -> {
            UnaryAnswer<WeightSyncStatus> answer = new UnaryAnswer<>();
            LearnerServiceGrpc.newStub(learner.channel())
                    .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .publishWeights(PublishWeightsRequest.newBuilder().setRun(learner.run()).setVersion(version)
                            .setHost(node.host()).setPort(node.port()).build(), answer);
            return answer.future();
        });
    }
}
