package dev.rlhf.cluster;

import com.google.protobuf.ByteString;
import dev.rlhf.policy.model.WeightsSnapshot;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Encodes each published snapshot once, however many rollout worker proxies send it, off the caller's thread.
 * Thread-safe.
 */
final class EncodedWeights {
    private WeightsSnapshot snapshot;
    private CompletableFuture<ByteString> bytes;

    /** {@code next} as safetensors bytes (see {@link SnapshotSafetensors}), encoded on {@code executor}. */
    synchronized CompletableFuture<ByteString> of(WeightsSnapshot next, Executor executor) {
        if (next != snapshot) {
            bytes = CompletableFuture.supplyAsync(() -> SnapshotSafetensors.encode(next), executor);
            snapshot = next;
        }
        return bytes;
    }
}
