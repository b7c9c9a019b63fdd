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
    private CompletableFuture<Encoded> encoded;

    /**
     * A snapshot as it travels.
     *
     * @param safetensors the tensors (see {@link SnapshotSafetensors})
     * @param sha256 the SHA-256 of {@code safetensors}
     */
    record Encoded(ByteString safetensors, ByteString sha256) {}

    /** {@code next} as safetensors bytes and their digest, encoded on {@code executor}. */
    synchronized CompletableFuture<Encoded> of(WeightsSnapshot next, Executor executor) {
        if (next != snapshot) {
            encoded = CompletableFuture.supplyAsync(() -> {
                ByteString bytes = SnapshotSafetensors.encode(next);
                return new Encoded(bytes, SnapshotSafetensors.sha256(bytes));
            }, executor);
            snapshot = next;
        }
        return encoded;
    }
}
