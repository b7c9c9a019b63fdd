package dev.rlhf.cluster;

import dev.rlhf.proto.v1.WeightChunk;
import dev.rlhf.proto.v1.WeightSyncStatus;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending side of weight sync (see weight_sync.proto): streams a version's chunks to a node as fast as the
 * stream takes them, and sends again the chunks the node answers as missing (rejected ones among them), until the
 * node holds the version or the attempts run out.
 */
final class WeightsSender {
    private static final Logger LOG = LoggerFactory.getLogger(WeightsSender.class);

    /** Starts one SyncWeights call: a stub's {@code syncWeights} method. */
    @FunctionalInterface
    interface SyncCall {
        StreamObserver<WeightChunk> start(StreamObserver<WeightSyncStatus> answer);
    }

    /** Chunks a call may have queued before its stream stops being ready (see {@link #readyThreshold}). */
    private static final int CHUNKS_IN_FLIGHT = 4;

    private WeightsSender() {}

    /**
     * The on-ready threshold for a sync call's stub ({@code withOnReadyThreshold}): with gRPC's default of 32 KiB a
     * stream stops being ready after each chunk, so one chunk at a time is in flight. Measured with {@code bench
     * sync} on loopback, GPT-2 small (498 MB in 1 MiB chunks): 5.6 s a version at the default, 3.2 s at 4 chunks.
     */
    static int readyThreshold(int chunkBytes) {
        return (int) Math.min(Integer.MAX_VALUE, (long) CHUNKS_IN_FLIGHT * chunkBytes);
    }

    /**
     * @param node names the node in the log and in errors
     * @param attempts the most calls (rlhf.cluster.weight-sync-attempts)
     * @return the node's status once it holds the version; fails with the call's error, or an
     *     {@link IllegalStateException} when chunks are still missing after {@code attempts} calls
     */
    static CompletableFuture<WeightSyncStatus> sync(SyncCall call, VersionChunks version, int attempts,
            String node) {
        return attempt(call, version, version.chunks(), 1, attempts, node);
    }

    private static CompletableFuture<WeightSyncStatus> attempt(SyncCall call, VersionChunks version,
            List<WeightChunk> chunks, int attempt, int attempts, String node) {
        return send(call, chunks).thenCompose(status -> {
            if (status.getVersion() == version.version() && status.getSha256().equals(version.sha256())) {
                return CompletableFuture.completedFuture(status);
            }
            if (status.getPendingVersion() != version.version() || status.getMissingChunksCount() == 0) {
                return CompletableFuture.failedFuture(new IllegalStateException(node + " holds weights v"
                        + status.getVersion() + " and gathers v" + status.getPendingVersion() + " after weights v"
                        + version.version() + " were sent"));
            }
            if (attempt == attempts) {
                return CompletableFuture.failedFuture(new IllegalStateException(node + " still misses "
                        + status.getMissingChunksCount() + " of the " + version.chunks().size() + " chunks of weights v"
                        + version.version() + " after " + attempts + " calls (rlhf.cluster.weight-sync-attempts; "
                        + status.getRejectedChunks() + " rejected in the last)"));
            }
            LOG.warn("{} rejected {} chunks of weights v{} and misses {}: sending those again", node,
                    status.getRejectedChunks(), version.version(), status.getMissingChunksCount());
            List<WeightChunk> missing = new ArrayList<>(status.getMissingChunksCount());
            for (int index : status.getMissingChunksList()) {
                if (index < 0 || index >= version.chunks().size()) {
                    return CompletableFuture.failedFuture(new IllegalStateException(node + " misses chunk " + index
                            + " of weights v" + version.version() + ", which has " + version.chunks().size()));
                }
                missing.add(version.chunks().get(index));
            }
            return attempt(call, version, missing, attempt + 1, attempts, node);
        });
    }

    /** One call: the chunks in order, each as soon as the stream is ready for it; the node's answer. */
    private static CompletableFuture<WeightSyncStatus> send(SyncCall call, List<WeightChunk> chunks) {
        ChunkStream stream = new ChunkStream(chunks);
        call.start(stream);
        return stream.future();
    }

    /** Feeds a call's request stream whenever it is ready, and completes it after the last chunk. */
    private static final class ChunkStream extends UnaryAnswer<WeightSyncStatus>
            implements ClientResponseObserver<WeightChunk, WeightSyncStatus> {
        private final List<WeightChunk> chunks;
        private int next;

        ChunkStream(List<WeightChunk> chunks) {
            this.chunks = chunks;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<WeightChunk> requests) {
            requests.setOnReadyHandler(() -> {
                while (requests.isReady() && next < chunks.size()) {
                    requests.onNext(chunks.get(next++));
                }
                if (next == chunks.size()) {
                    next++; // completes once: the handler runs again whenever the stream turns ready
                    requests.onCompleted();
                }
            });
        }
    }
}
