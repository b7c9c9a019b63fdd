package dev.rlhf.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * ATen kernels that DJL's JNI does not expose, reached through one small TorchScript module ({@code fused_ops.py}
 * next to this class) that libtorch compiles once per process: GPT-2's tanh-GELU as one differentiable kernel, the
 * global norm of a list of gradients, and AdamW over a whole list of tensors in one fused kernel (DJL's
 * {@code adamUpdate} runs about ten operations per tensor, each a pass over it).
 *
 * <p>The module holds no tensors; its methods may run on several threads at once.
 */
public final class FusedOps {
    private static final String SOURCE = "fused_ops.py";

    private final PtSymbolBlock module;

    /** The settings of one AdamW update; {@code gradScale} multiplies the gradients first (norm clipping). */
    public record AdamWStep(
            float learningRate, float beta1, float beta2, float weightDecay, float epsilon, float gradScale) {}

    private FusedOps(PtSymbolBlock module) {
        this.module = module;
    }

    /** The process's instance, compiled on first use. */
    public static FusedOps get() {
        return Holder.INSTANCE;
    }

    /**
     * {@code torch.gelu(x, approximate="tanh")}, differentiable when the calling thread records gradients; the
     * result is allocated in {@code x}'s manager. {@code x} must be unnamed (DJL routes named arrays to other
     * arguments).
     */
    public NDArray geluTanh(NDArray x) {
        return IValueUtils.forward(module, new NDList(x), JniUtils.isGradMode()).singletonOrThrow();
    }

    /** The global L2 norm of {@code gradients} (a 0-d tensor in {@code scope}). */
    public NDArray gradientNorm(List<NDArray> gradients, NDManager scope) {
        try (IValue list = tensorList(gradients);
                IValue norm = IValueUtils.runMethod(module, "gradient_norm", list)) {
            return norm.toTensor((PtNDManager) scope);
        }
    }

    /**
     * One AdamW update of {@code parameters} in place (PyTorch's {@code AdamW}: decoupled decay, bias-corrected
     * moments, epsilon added to the corrected root), then zeroes the gradients.
     *
     * @param step the update's number, counting from 1, for the bias corrections
     */
    public void adamW(List<NDArray> parameters, List<NDArray> gradients, List<NDArray> means,
            List<NDArray> variances, int step, AdamWStep settings, NDManager scope) {
        NDArray stepCount = scope.full(new Shape(), (float) step);
        try (IValue params = tensorList(parameters);
                IValue grads = tensorList(gradients);
                IValue expAvgs = tensorList(means);
                IValue expAvgSqs = tensorList(variances);
                IValue steps = IValue.from((PtNDArray) stepCount);
                IValue lr = IValue.from((double) settings.learningRate());
                IValue beta1 = IValue.from((double) settings.beta1());
                IValue beta2 = IValue.from((double) settings.beta2());
                IValue decay = IValue.from((double) settings.weightDecay());
                IValue eps = IValue.from((double) settings.epsilon());
                IValue scale = IValue.from((double) settings.gradScale())) {
            // returns None: the tensors are updated in place
            IValueUtils.runMethod(module, "adamw_step",
                    params, grads, expAvgs, expAvgSqs, steps, lr, beta1, beta2, decay, eps, scale).close();
        }
    }

    private static IValue tensorList(List<NDArray> arrays) {
        return IValue.listFrom(arrays.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new));
    }

    private static final class Holder {
        static final FusedOps INSTANCE = load();

        private static FusedOps load() {
            String source;
            try (InputStream in = FusedOps.class.getResourceAsStream(SOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + SOURCE + " is missing from the policy jar");
                }
                source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            // the module outlives every caller: its manager is a base manager that is never closed
            PtNDManager manager = (PtNDManager) NDManager.newBaseManager();
            try {
                return new FusedOps(JniUtils.loadModule(manager,
                        new ByteArrayInputStream(TorchScriptArchive.of("FusedOps", source)), false, false));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
