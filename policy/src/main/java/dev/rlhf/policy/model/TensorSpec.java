package dev.rlhf.policy.model;

import ai.djl.ndarray.types.Shape;

/**
 * One named tensor of a GPT-2 checkpoint.
 *
 * @param name Hugging Face name without the {@code transformer.} prefix, e.g. {@code h.0.attn.c_attn.weight}
 * @param checkpointShape shape as stored in the checkpoint
 * @param conv1d whether the checkpoint stores it as a GPT-2 {@code Conv1D} weight ({@code [in, out]}); in memory
 *     such weights are transposed to {@code [out, in]} so a single fused {@code linear} applies them
 */
public record TensorSpec(String name, Shape checkpointShape, boolean conv1d) {

    /** Shape of the tensor in memory. */
    public Shape memoryShape() {
        return conv1d ? new Shape(checkpointShape.get(1), checkpointShape.get(0)) : checkpointShape;
    }
}
