package dev.rlhf.cluster;

import com.google.protobuf.ByteString;
import dev.rlhf.policy.model.WeightsSnapshot;

/** Encodes each published snapshot once, however many rollout worker proxies send it. */
final class EncodedWeights {
    private WeightsSnapshot snapshot;
    private ByteString bytes;

    /** {@code snapshot} as safetensors bytes (see {@link SnapshotSafetensors}). */
    synchronized ByteString of(WeightsSnapshot next) {
        if (next != snapshot) {
            bytes = SnapshotSafetensors.encode(next);
            snapshot = next;
        }
        return bytes;
    }
}
