package dev.rlhf.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;

/**
 * The few PyTorch-engine calls the generic NDArray API does not offer cheaply. {@code NDArray.set} on a slice
 * reshapes and broadcasts the value first (three extra native calls) and {@code NDArray.get(NDIndex)} parses an
 * index and attaches the view to the source's manager; a KV-cache access per layer per token can afford neither,
 * so these go straight to {@code index_put_} and slicing.
 */
final class TorchOps {
    private TorchOps() {}

    /**
     * Copies {@code value} into {@code target[min_0:max_0, ..., min_n:max_n]} in place. {@code value} must have
     * the slice's shape (or broadcast to it).
     */
    static void copyIntoSlice(NDArray target, NDArray value, long[] min, long[] max) {
        JniUtils.indexSet((PtNDArray) target, (PtNDArray) value, min, max, ones(min.length));
    }

    /** A view of {@code source[min_0:max_0, ...]} owned by {@code scope} (closing it leaves the source intact). */
    static NDArray slice(NDArray source, long[] min, long[] max, NDManager scope) {
        return JniUtils.index((PtNDArray) source, min, max, ones(min.length), (PtNDManager) scope);
    }

    private static long[] ones(int n) {
        long[] step = new long[n];
        Arrays.fill(step, 1L);
        return step;
    }
}
