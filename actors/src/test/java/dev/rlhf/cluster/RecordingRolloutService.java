package dev.rlhf.cluster;

import dev.rlhf.proto.v1.FinishReason;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.GenerateChunkResponse;
import dev.rlhf.proto.v1.RolloutCompletion;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import dev.rlhf.proto.v1.WeightChunk;
import dev.rlhf.proto.v1.WeightSyncStatus;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicInteger;

/** A RolloutService with no model behind it: it counts the calls it gets and answers each within bounds. */
final class RecordingRolloutService extends RolloutServiceGrpc.RolloutServiceImplBase {
    final AtomicInteger calls = new AtomicInteger();

    /** Answers every request of the chunk with one token, 1, at log-probability -0.5. */
    @Override
    public void generateChunk(GenerateChunkRequest request, StreamObserver<GenerateChunkResponse> observer) {
        calls.incrementAndGet();
        GenerateChunkResponse.Builder response = GenerateChunkResponse.newBuilder().setChunk(request.getChunk());
        for (int i = 0; i < request.getRequestsCount(); i++) {
            response.addCompletions(RolloutCompletion.newBuilder().addTokenIds(1).addLogprobs(-0.5f)
                    .setFinishReason(FinishReason.FINISH_REASON_EOS));
        }
        observer.onNext(response.build());
        observer.onCompleted();
    }

    /** Takes any weights without reading them: answers that it holds the version of the last chunk. */
    @Override
    public StreamObserver<WeightChunk> syncWeights(StreamObserver<WeightSyncStatus> observer) {
        calls.incrementAndGet();
        return new StreamObserver<>() {
            private WeightChunk last;

            @Override
            public void onNext(WeightChunk chunk) {
                last = chunk;
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {
                observer.onNext(WeightSyncStatus.newBuilder().setVersion(last.getVersion())
                        .setSha256(last.getVersionSha256()).setPendingVersion(-1).build());
                observer.onCompleted();
            }
        };
    }
}
