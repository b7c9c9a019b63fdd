package dev.rlhf.cluster;

import dev.rlhf.policy.model.WeightsSnapshot;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Encodes each published snapshot once, however many node proxies send it, off the caller's thread: as safetensors
 * ({@link SnapshotSafetensors}) cut into the chunks it travels in. Thread-safe.
 */
final class EncodedWeights {
    private final int chunkBytes;
    private WeightsSnapshot snapshot;
    private CompletableFuture<VersionChunks> encoded;

    /** @param chunkBytes the length of every chunk but a version's last (rlhf.cluster.weight-chunk-bytes) */
    EncodedWeights(int chunkBytes) {
        this.chunkBytes = chunkBytes;
    }

    /** {@code next} in chunks, encoded on {@code executor}. */
    synchronized CompletableFuture<VersionChunks> of(WeightsSnapshot next, Executor executor) {
        if (next != snapshot) {
            encoded = CompletableFuture.supplyAsync(
                    () -> VersionChunks.of(next.version(), SnapshotSafetensors.encode(next), chunkBytes), executor);
            snapshot = next;
        }
        return encoded;
    }
}
