package dev.rlhf.policy.model;

import dev.rlhf.policy.train.Gradients;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The tensors of a GPT-2 decoder (plus an optional scalar value head), by Hugging Face name, owned by one
 * {@link NDManager}. Linear weights are held as {@code [out, in]}; see {@link TensorSpec#conv1d()}.
 */
public final class GptWeights implements AutoCloseable {

    /** Name prefix of the value head's tensors (the layout TRL's {@code AutoModelForCausalLMWithValueHead} saves). */
    public static final String VALUE_HEAD_WEIGHT = "v_head.summary.weight";

    public static final String VALUE_HEAD_BIAS = "v_head.summary.bias";

    private final GptConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> tensors;
    private final List<Layer> layers;

    /** The tensors of one transformer block, resolved once so the hot path does no map look-ups. */
    public record Layer(
            NDArray ln1Gamma,
            NDArray ln1Beta,
            NDArray attnWeight,
            NDArray attnBias,
            NDArray attnProjWeight,
            NDArray attnProjBias,
            NDArray ln2Gamma,
            NDArray ln2Beta,
            NDArray fcWeight,
            NDArray fcBias,
            NDArray mlpProjWeight,
            NDArray mlpProjBias) {}

    /**
     * Wraps tensors already in memory layout; takes ownership of {@code manager}.
     *
     * @throws CheckpointException if a tensor is missing or has the wrong shape
     */
    public GptWeights(GptConfig config, NDManager manager, Map<String, NDArray> tensors) {
        this.config = config;
        this.manager = manager;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        for (TensorSpec spec : specs(config, tensors.containsKey(VALUE_HEAD_WEIGHT))) {
            NDArray array = tensors.get(spec.name());
            if (array == null) {
                throw new CheckpointException("missing tensor " + spec.name());
            }
            if (!array.getShape().equals(spec.memoryShape())) {
                throw new CheckpointException("tensor " + spec.name() + " has shape " + array.getShape()
                        + " but the config requires " + spec.memoryShape());
            }
        }
        List<Layer> resolved = new ArrayList<>(config.layers());
        for (int i = 0; i < config.layers(); i++) {
            String p = "h." + i + ".";
            resolved.add(new Layer(
                    get(p + "ln_1.weight"), get(p + "ln_1.bias"),
                    get(p + "attn.c_attn.weight"), get(p + "attn.c_attn.bias"),
                    get(p + "attn.c_proj.weight"), get(p + "attn.c_proj.bias"),
                    get(p + "ln_2.weight"), get(p + "ln_2.bias"),
                    get(p + "mlp.c_fc.weight"), get(p + "mlp.c_fc.bias"),
                    get(p + "mlp.c_proj.weight"), get(p + "mlp.c_proj.bias")));
        }
        this.layers = List.copyOf(resolved);
    }

    /** Every tensor a checkpoint of this config must hold, in a stable order. */
    public static List<TensorSpec> specs(GptConfig config, boolean valueHead) {
        long d = config.dModel();
        long inner = config.innerDim();
        List<TensorSpec> specs = new ArrayList<>();
        specs.add(new TensorSpec("wte.weight", new Shape(config.vocabSize(), d), false));
        specs.add(new TensorSpec("wpe.weight", new Shape(config.contextLength(), d), false));
        for (int i = 0; i < config.layers(); i++) {
            String p = "h." + i + ".";
            specs.add(new TensorSpec(p + "ln_1.weight", new Shape(d), false));
            specs.add(new TensorSpec(p + "ln_1.bias", new Shape(d), false));
            specs.add(new TensorSpec(p + "attn.c_attn.weight", new Shape(d, 3 * d), true));
            specs.add(new TensorSpec(p + "attn.c_attn.bias", new Shape(3 * d), false));
            specs.add(new TensorSpec(p + "attn.c_proj.weight", new Shape(d, d), true));
            specs.add(new TensorSpec(p + "attn.c_proj.bias", new Shape(d), false));
            specs.add(new TensorSpec(p + "ln_2.weight", new Shape(d), false));
            specs.add(new TensorSpec(p + "ln_2.bias", new Shape(d), false));
            specs.add(new TensorSpec(p + "mlp.c_fc.weight", new Shape(d, inner), true));
            specs.add(new TensorSpec(p + "mlp.c_fc.bias", new Shape(inner), false));
            specs.add(new TensorSpec(p + "mlp.c_proj.weight", new Shape(inner, d), true));
            specs.add(new TensorSpec(p + "mlp.c_proj.bias", new Shape(d), false));
        }
        specs.add(new TensorSpec("ln_f.weight", new Shape(d), false));
        specs.add(new TensorSpec("ln_f.bias", new Shape(d), false));
        if (valueHead) {
            specs.add(new TensorSpec(VALUE_HEAD_WEIGHT, new Shape(1, d), false));
            specs.add(new TensorSpec(VALUE_HEAD_BIAS, new Shape(1), false));
        }
        return List.copyOf(specs);
    }

    /**
     * GPT-2's initialisation, drawn from a seeded Java stream so it does not depend on the engine's global RNG:
     * normal(0, 0.02) weights, residual projections scaled by {@code 1/sqrt(2 * layers)}, zero biases, unit
     * LayerNorm gains, and a zero value head.
     */
    public static GptWeights random(GptConfig config, boolean valueHead, NDManager parent, long seed) {
        NDManager manager = parent.newSubManager();
        SplittableRandom random = new SplittableRandom(seed);
        double residualStd = 0.02 / Math.sqrt(2.0 * config.layers());
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (TensorSpec spec : specs(config, valueHead)) {
            Shape shape = spec.memoryShape();
            float[] data = new float[Math.toIntExact(shape.size())];
            String name = spec.name();
            if (name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.equals("ln_f.weight")) {
                java.util.Arrays.fill(data, 1f);
            } else if (name.endsWith(".weight") && !name.startsWith("v_head")) {
                double std = name.endsWith("c_proj.weight") ? residualStd : 0.02;
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) (gaussian(random) * std);
                }
            }
            NDArray array = manager.create(data, shape);
            array.setName(name);
            tensors.put(name, array);
        }
        return new GptWeights(config, manager, tensors);
    }

    private static double gaussian(SplittableRandom random) {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    public GptConfig config() {
        return config;
    }

    /** The manager that owns every tensor here. */
    public NDManager manager() {
        return manager;
    }

    /** The tensor of that name. */
    public NDArray get(String name) {
        NDArray array = tensors.get(name);
        if (array == null) {
            throw new IllegalArgumentException("no tensor named " + name);
        }
        return array;
    }

    public boolean hasValueHead() {
        return tensors.containsKey(VALUE_HEAD_WEIGHT);
    }

    /** All tensors by name, in checkpoint order. */
    public Map<String, NDArray> tensors() {
        return tensors;
    }

    public List<Layer> layers() {
        return layers;
    }

    public NDArray tokenEmbedding() {
        return get("wte.weight");
    }

    public NDArray positionEmbedding() {
        return get("wpe.weight");
    }

    /**
     * A deep copy in a new sub-manager of {@code parent} with a freshly initialised value head (zero weights and
     * bias, so values start at 0), replacing any the weights had: the PPO learner's starting point.
     */
    public GptWeights copyWithValueHead(NDManager parent) {
        Gradients.inferenceOnly();
        NDManager target = parent.newSubManager();
        Map<String, NDArray> copies = new LinkedHashMap<>();
        for (TensorSpec spec : specs(config, true)) {
            NDArray copy = spec.name().startsWith("v_head.")
                    ? target.zeros(spec.memoryShape())
                    : tensors.get(spec.name()).duplicate();
            copy.attach(target);
            copy.setName(spec.name());
            copies.put(spec.name(), copy);
        }
        return new GptWeights(config, target, copies);
    }

    /**
     * A deep copy in a new sub-manager of {@code parent} without any value head: the starting point of a learner
     * that trains none (GRPO, RLOO).
     */
    public GptWeights copyWithoutValueHead(NDManager parent) {
        Gradients.inferenceOnly();
        NDManager target = parent.newSubManager();
        Map<String, NDArray> copies = new LinkedHashMap<>();
        for (TensorSpec spec : specs(config, false)) {
            NDArray copy = tensors.get(spec.name()).duplicate();
            copy.attach(target);
            copy.setName(spec.name());
            copies.put(spec.name(), copy);
        }
        return new GptWeights(config, target, copies);
    }

    /** A deep copy in a new sub-manager of {@code parent} (for a frozen reference or a rollout worker's copy). */
    public GptWeights copy(NDManager parent) {
        Gradients.inferenceOnly();
        NDManager target = parent.newSubManager();
        Map<String, NDArray> copies = new LinkedHashMap<>();
        tensors.forEach((name, array) -> {
            NDArray copy = array.duplicate();
            copy.attach(target);
            copy.setName(name);
            copies.put(name, copy);
        });
        return new GptWeights(config, target, copies);
    }

    @Override
    public void close() {
        manager.close();
    }
}
