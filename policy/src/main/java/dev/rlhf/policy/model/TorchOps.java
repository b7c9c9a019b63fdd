package dev.rlhf.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The few PyTorch-engine calls the generic NDArray API does not offer cheaply. {@code NDArray.set} on a slice
 * reshapes and broadcasts the value first (three extra native calls) and {@code NDArray.get(NDIndex)} parses an
 * index and attaches the view to the source's manager; a KV-cache access per layer per token can afford neither,
 * so these go straight to {@code index_put_} and slicing.
 */
public final class TorchOps {
    private TorchOps() {}

    /**
     * The values of a float32 array in row-major order. {@code NDArray.toFloatArray} has the engine copy them into
     * a Java byte array first and then decodes that buffer element by element; this reads the tensor's own memory
     * (a contiguous copy first if it is a view) with one bulk copy, several times faster for a step's
     * {@code [rows, vocab]} probabilities.
     */
    public static float[] toFloatArray(NDArray array) {
        ByteBuffer memory = JniUtils.getByteBuffer((PtNDArray) array, true);
        float[] values = new float[memory.remaining() / Float.BYTES];
        memory.asFloatBuffer().get(values);
        return values;
    }

    /**
     * Copies {@code value} into {@code target[min_0:max_0, ..., min_n:max_n]} in place. {@code value} must have
     * the slice's shape (or broadcast to it).
     */
    static void copyIntoSlice(NDArray target, NDArray value, long[] min, long[] max) {
        JniUtils.indexSet((PtNDArray) target, (PtNDArray) value, min, max, ones(min.length));
    }

    /**
     * Overwrites {@code target} with {@code source} (same shape) inside {@code target}'s own memory. Use this, never
     * {@code NDArray.set(Buffer)} or {@code NDArray.copyTo} (which calls it), on an array that outlives the call:
     * the PyTorch engine makes the target's storage alias a direct Java buffer there, which the garbage collector
     * frees once the array is set again or dropped, while views and saved tensors may still read or write it (the
     * same hazard as with numbers, see {@link #scalar}).
     */
    public static void copyInto(NDArray target, NDArray source) {
        if (!target.getShape().equals(source.getShape())) {
            throw new IllegalArgumentException(
                    "cannot copy " + source.getShape() + " into " + target.getShape());
        }
        long[] max = target.getShape().getShape();
        copyIntoSlice(target, source, new long[max.length], max);
    }

    /** {@link #copyInto(NDArray, NDArray)} from row-major {@code values}, staged in a scratch array. */
    public static void copyInto(NDArray target, float[] values) {
        try (NDManager scratch = target.getManager().newSubManager()) {
            copyInto(target, scratch.create(values, target.getShape()));
        }
    }

    /**
     * A 0-dimensional tensor holding {@code value}, of {@code like}'s type and in its manager, for arithmetic that
     * autograd may differentiate. Never pass a Java number to {@code mul}, {@code div}, {@code maximum},
     * {@code minimum} or {@code pow} on a tensor that needs a gradient: the PyTorch engine wraps the number in a
     * tensor aliasing a direct Java buffer and closes it right after the operation, but the backward pass still
     * reads it (the product rule needs the other factor), by then from memory the garbage collector may have
     * freed. That showed as NaN gradients and runs that differed between processes. This tensor owns its memory.
     */
    public static NDArray scalar(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, like.getDataType());
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
