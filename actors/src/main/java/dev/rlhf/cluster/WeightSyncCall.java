package dev.rlhf.cluster;

import com.google.protobuf.ByteString;
import dev.rlhf.proto.v1.WeightChunk;
import dev.rlhf.proto.v1.WeightSyncStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The node's side of one SyncWeights call: feeds the call's chunks to the node's {@link WeightsAssembly}, and when
 * the sender has sent them all, applies the version if it is complete, then answers what the node holds and what it
 * still misses. The first bad chunk ends the call with its error; the rest of the stream is ignored.
 */
final class WeightSyncCall implements StreamObserver<WeightChunk> {

    /** What a node does with a complete version: decode it, check it, use it. */
    @FunctionalInterface
    interface Applier {
        /**
         * @return completes once the node uses the version
         * @throws StatusRuntimeException INVALID_ARGUMENT naming what is wrong with the file
         */
        CompletableFuture<?> apply(long version, ByteString file);
    }

    private final WeightsAssembly assembly;
    private final Applier applier;
    private final StreamObserver<WeightSyncStatus> reply;
    private WeightChunk first;
    private int rejected;
    private boolean ended;

    WeightSyncCall(WeightsAssembly assembly, Applier applier, StreamObserver<WeightSyncStatus> reply) {
        this.assembly = assembly;
        this.applier = applier;
        this.reply = reply;
    }

    @Override
    public void onNext(WeightChunk chunk) {
        if (ended) {
            return;
        }
        try {
            if (first == null) {
                first = chunk;
            } else {
                requireSameVersion(chunk);
            }
            if (!assembly.accept(chunk)) {
                rejected++;
            }
        } catch (StatusRuntimeException e) {
            ended = true;
            reply.onError(e);
        }
    }

    @Override
    public void onError(Throwable t) {
        ended = true; // the sender cancelled or went away: no one to answer; the chunks taken in stay
    }

    @Override
    public void onCompleted() {
        if (ended) {
            return;
        }
        ended = true;
        if (first == null) {
            reply.onError(Status.INVALID_ARGUMENT.withDescription("chunks: the call sent none").asRuntimeException());
            return;
        }
        Optional<WeightsAssembly.Complete> complete = assembly.complete();
        if (complete.isEmpty()) {
            answer();
            return;
        }
        CompletableFuture<?> applied;
        try {
            applied = applier.apply(complete.get().version(), complete.get().file());
        } catch (StatusRuntimeException e) {
            reply.onError(e);
            return;
        }
        applied.whenComplete((ignored, failure) -> {
            if (failure != null) {
                Throwable cause = Failures.cause(failure);
                reply.onError(cause instanceof StatusRuntimeException ? cause : Status.INTERNAL
                        .withDescription("applying weights v" + complete.get().version() + " failed: "
                                + cause.getMessage()).withCause(cause).asRuntimeException());
                return;
            }
            try {
                assembly.applied(complete.get());
            } catch (StatusRuntimeException e) {
                reply.onError(e);
                return;
            }
            answer();
        });
    }

    private void answer() {
        reply.onNext(assembly.status(rejected));
        reply.onCompleted();
    }

    private void requireSameVersion(WeightChunk chunk) {
        String differs = chunk.getVersion() != first.getVersion() ? "version"
                : !chunk.getVersionSha256().equals(first.getVersionSha256()) ? "version_sha256"
                : chunk.getTotalBytes() != first.getTotalBytes() ? "total_bytes"
                : chunk.getChunkBytes() != first.getChunkBytes() ? "chunk_bytes" : null;
        if (differs != null) {
            throw Status.INVALID_ARGUMENT.withDescription(differs + " of chunk " + chunk.getIndex()
                    + " differs from the call's first chunk: one call carries one version").asRuntimeException();
        }
    }
}
