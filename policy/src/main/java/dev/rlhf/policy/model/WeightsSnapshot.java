package dev.rlhf.policy.model;

import dev.rlhf.policy.train.Gradients;
import ai.djl.ndarray.NDArray;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An immutable copy of a policy's weights on the Java heap, tagged with its version: what a learner publishes and
 * rollout workers load. Heap arrays rather than NDArrays, so a snapshot can cross threads and actors without
 * sharing a native manager, and can be serialised for another process.
 *
 * @param version grows by one with each published update
 * @param tensors memory-layout tensors by name (see {@link GptWeights})
 */
public record WeightsSnapshot(long version, Map<String, float[]> tensors) {

    public WeightsSnapshot {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** Copies every tensor of {@code weights}. */
    public static WeightsSnapshot of(GptWeights weights, long version) {
        Map<String, float[]> copies = new LinkedHashMap<>();
        weights.tensors().forEach((name, array) -> copies.put(name, array.toFloatArray()));
        return new WeightsSnapshot(version, copies);
    }

    /**
     * Overwrites every tensor of {@code weights} in place with this snapshot's tensor of the same name; tensors
     * only the snapshot has (a learner's value head, for a rollout copy) are left out.
     *
     * @throws IllegalArgumentException if a tensor is missing or its size differs
     */
    public void loadInto(GptWeights weights) {
        Gradients.inferenceOnly();
        for (Map.Entry<String, NDArray> entry : weights.tensors().entrySet()) {
            float[] values = tensors.get(entry.getKey());
            NDArray target = entry.getValue();
            if (values == null || values.length != target.size()) {
                throw new IllegalArgumentException("snapshot v" + version + " has no tensor " + entry.getKey()
                        + " of " + target.size() + " values");
            }
            TorchOps.copyInto(target, values);
        }
    }
}
