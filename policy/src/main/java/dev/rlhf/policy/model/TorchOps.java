package dev.rlhf.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The few PyTorch-engine calls the generic NDArray API does not offer cheaply. {@code NDArray.set} on a slice
 * reshapes and broadcasts the value first (three extra native calls); a KV-cache write per layer per token
 * cannot afford that, so it goes straight to {@code index_put_}.
 */
final class TorchOps {
    private TorchOps() {}

    /**
     * Copies {@code value} into {@code target[min_0:max_0, ..., min_n:max_n]} in place. {@code value} must have
     * the slice's shape (or broadcast to it).
     */
    static void copyIntoSlice(NDArray target, NDArray value, long[] min, long[] max) {
        long[] step = new long[min.length];
        java.util.Arrays.fill(step, 1L);
        JniUtils.indexSet((PtNDArray) target, (PtNDArray) value, min, max, step);
    }
}
