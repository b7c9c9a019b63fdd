package dev.rlhf.policy.train;

import dev.rlhf.policy.model.FusedOps;
import dev.rlhf.policy.model.TorchOps;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * AdamW (decoupled weight decay) over named parameters, with global gradient-norm clipping. Each update is
 * PyTorch's fused AdamW kernel over all tensors of a decay group ({@link FusedOps}); this class owns the moment
 * estimates, the step count, and the choice of which tensors decay (only matrices, as GPT-2 and nanoGPT do: no
 * decay on biases and LayerNorm gains).
 *
 * <p>DJL's own {@code Optimizer} expects a {@code Trainer} and {@code ParameterStore}; our models are plain
 * named tensors, so this class drives the kernel itself.
 */
public final class AdamW implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdamW.class);
    private final Map<String, NDArray> parameters;
    private final Settings settings;
    private final NDManager stateManager;
    private final Map<String, NDArray> means = new LinkedHashMap<>();
    private final Map<String, NDArray> variances = new LinkedHashMap<>();
    /** The parameters by decay (matrices decay; biases and LayerNorm gains do not), each group one fused update. */
    private final List<Group> groups;
    private int steps;

    /**
     * @param learningRate step size
     * @param beta1 decay of the first moment
     * @param beta2 decay of the second moment
     * @param epsilon added to the root of the second moment
     * @param weightDecay decoupled decay applied to matrices
     * @param maxGradNorm global L2 norm gradients are clipped to; 0 or less disables clipping
     */
    public record Settings(
            float learningRate, float beta1, float beta2, float epsilon, float weightDecay, float maxGradNorm) {
        public Settings {
            if (!(learningRate > 0)) {
                throw new IllegalArgumentException("learningRate must be positive but was " + learningRate);
            }
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("betas must be in [0, 1) but were " + beta1 + ", " + beta2);
            }
            if (weightDecay < 0) {
                throw new IllegalArgumentException("weightDecay must not be negative but was " + weightDecay);
            }
        }

        public static Settings of(float learningRate) {
            return new Settings(learningRate, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f);
        }

        public Settings withLearningRate(float rate) {
            return new Settings(rate, beta1, beta2, epsilon, weightDecay, maxGradNorm);
        }
    }

    /** What one step did. */
    public record StepReport(double gradNorm, boolean clipped) {}

    /**
     * @param parameters tensors to train; their gradients are attached here
     */
    public AdamW(Map<String, NDArray> parameters, Settings settings) {
        // insertion order, so the update (and its float rounding) is the same in every run
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        this.settings = settings;
        NDArray any = parameters.values().iterator().next();
        this.stateManager = any.getManager().newSubManager();
        parameters.forEach((name, p) -> {
            p.setRequiresGradient(true);
            means.put(name, stateManager.zeros(p.getShape()));
            variances.put(name, stateManager.zeros(p.getShape()));
        });
        this.groups = Group.byDecay(this.parameters, means, variances, settings.weightDecay());
    }

    public int steps() {
        return steps;
    }

    public Settings settings() {
        return settings;
    }

    /** The moment estimates, for checkpointing the optimiser ({@code m.NAME} and {@code v.NAME}). */
    public Map<String, NDArray> state() {
        Map<String, NDArray> state = new LinkedHashMap<>();
        means.forEach((name, m) -> state.put("m." + name, m));
        variances.forEach((name, v) -> state.put("v." + name, v));
        return state;
    }

    /**
     * Continues from a checkpoint: copies the moment estimates saved by {@link #state()} into this optimiser and
     * sets its step count, so the next step's bias correction and moments are those of the uninterrupted run.
     *
     * @throws IllegalArgumentException naming the tensor when a moment is missing or has the wrong shape
     */
    public void restore(Map<String, NDArray> saved, int savedSteps) {
        if (savedSteps < 0) {
            throw new IllegalArgumentException("optimizer steps must not be negative but were " + savedSteps);
        }
        Map<String, NDArray> target = state();
        for (Map.Entry<String, NDArray> entry : target.entrySet()) {
            NDArray moment = saved.get(entry.getKey());
            if (moment == null) {
                throw new IllegalArgumentException("optimizer state has no tensor " + entry.getKey());
            }
            if (!moment.getShape().equals(entry.getValue().getShape())) {
                throw new IllegalArgumentException("optimizer tensor " + entry.getKey() + " has shape "
                        + moment.getShape() + " but the parameter needs " + entry.getValue().getShape());
            }
        }
        target.forEach((name, moment) -> TorchOps.copyInto(moment, saved.get(name)));
        steps = savedSteps;
    }

    /** Applies one update at {@code learningRate} from the gradients of the last backward pass, then zeroes them. */
    public StepReport step(float learningRate) {
        return step(learningRate, 1, part -> part.accept(0));
    }

    /**
     * {@link #step(float)} with the update's kernels shared out among the replicas' threads, each tensor updated by
     * one of them (the update is elementwise, so the result is the same as on one thread).
     */
    public StepReport step(float learningRate, Replicas<?> replicas) {
        return step(learningRate, replicas.count(), replicas::forEachReplica);
    }

    /** The step with the tensors of each group split into {@code parts} parts, run by {@code runner}. */
    private StepReport step(float learningRate, int parts, Consumer<IntConsumer> runner) {
        try (NDManager scratch = stateManager.newSubManager()) {
            List<NDArray> gradients = parameters.values().stream().map(p -> {
                NDArray g = p.getGradient();
                g.attach(scratch); // the wrapper only; the gradient itself stays with its parameter
                return g;
            }).toList();
            double norm = FusedOps.get().gradientNorm(gradients, scratch).getFloat();
            if (!Double.isFinite(norm)) {
                // an overflowing batch must not poison the weights and moments: drop it, as mixed-precision
                // training drops inf/NaN steps
                parameters.values().forEach(p -> JniUtils.zeroGrad((PtNDArray) p));
                LOG.warn("skipped an optimiser step: gradient norm is {}", norm);
                return new StepReport(norm, false);
            }
            steps++;
            boolean clip = settings.maxGradNorm() > 0 && norm > settings.maxGradNorm();
            float scale = clip ? (float) (settings.maxGradNorm() / norm) : 1f;
            int step = steps;
            runner.accept(part -> {
                for (Group group : groups) {
                    Group share = group.part(part, parts);
                    if (share.members().length > 0) {
                        FusedOps.get().adamW(share.weights(), share.gradientsOf(gradients), share.means(),
                                share.variances(), step, new FusedOps.AdamWStep(learningRate, settings.beta1(),
                                        settings.beta2(), share.decay(), settings.epsilon(), scale), scratch);
                    }
                }
            });
            return new StepReport(norm, clip);
        }
    }

    /**
     * Parameters that share a weight decay, with their moments in the same order.
     *
     * @param members positions of the group's parameters in the optimiser's parameter order
     */
    private record Group(
            float decay, int[] members, List<NDArray> weights, List<NDArray> means, List<NDArray> variances) {

        static List<Group> byDecay(Map<String, NDArray> parameters, Map<String, NDArray> means,
                Map<String, NDArray> variances, float weightDecay) {
            List<String> names = List.copyOf(parameters.keySet());
            List<Group> groups = new ArrayList<>();
            for (boolean matrices : new boolean[] {true, false}) {
                int[] members = IntStream.range(0, names.size())
                        .filter(i -> (parameters.get(names.get(i)).getShape().dimension() >= 2) == matrices)
                        .toArray();
                if (members.length > 0) {
                    groups.add(new Group(matrices ? weightDecay : 0f, members,
                            select(names, members, parameters), select(names, members, means),
                            select(names, members, variances)));
                }
            }
            return List.copyOf(groups);
        }

        /** Every {@code parts}-th of this group's parameters from its {@code part}-th on. */
        Group part(int part, int parts) {
            if (parts == 1) {
                return this;
            }
            int[] positions = IntStream.range(0, members.length).filter(i -> i % parts == part).toArray();
            return new Group(decay, Arrays.stream(positions).map(i -> members[i]).toArray(),
                    pick(weights, positions), pick(means, positions), pick(variances, positions));
        }

        private static List<NDArray> pick(List<NDArray> tensors, int[] positions) {
            return Arrays.stream(positions).mapToObj(tensors::get).toList();
        }

        /** This group's gradients out of all of them, in parameter order. */
        List<NDArray> gradientsOf(List<NDArray> all) {
            return Arrays.stream(members).mapToObj(all::get).toList();
        }

        private static List<NDArray> select(List<String> names, int[] members, Map<String, NDArray> tensors) {
            return Arrays.stream(members).mapToObj(i -> tensors.get(names.get(i))).toList();
        }
    }

    @Override
    public void close() {
        stateManager.close();
    }
}
