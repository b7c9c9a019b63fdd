package dev.rlhf.policy.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes GPT-2 weights in the Hugging Face layout: {@code config.json} + {@code model.safetensors}.
 *
 * <p>Reading accepts what {@code save_pretrained} writes for {@code GPT2Model} or {@code GPT2LMHeadModel}: names
 * with or without the {@code transformer.} prefix, {@code Conv1D} weights stored {@code [in, out]}, a tied
 * {@code lm_head.weight} (checked, then dropped) and buffers such as {@code attn.bias} (ignored); half-precision
 * tensors are widened to float32. Writing produces the {@code GPT2LMHeadModel} layout with the value head, if
 * any, under TRL's {@code v_head.summary.*} names.
 *
 * <p>A checkpoint may carry head tensors beside the trunk (a reward model's {@code score.weight}, as Hugging
 * Face's {@code GPT2ForSequenceClassification} names it): the weights hold them under their own names, saving
 * writes them unprefixed and as they are, and loading requires exactly the heads the caller names.
 */
public final class GptCheckpoint {
    public static final String WEIGHTS_FILE = "model.safetensors";
    private static final String PREFIX = "transformer.";
    private static final Logger LOG = LoggerFactory.getLogger(GptCheckpoint.class);

    private GptCheckpoint() {}

    /**
     * Loads the weights of a checkpoint directory into a new sub-manager of {@code parent}.
     *
     * @throws CheckpointException naming the file, tensor and shapes when the checkpoint is malformed
     */
    public static GptWeights load(Path dir, NDManager parent) {
        return load(dir, parent, List.of());
    }

    /**
     * Loads the weights of a checkpoint directory that also holds the head tensors {@code heads} (stored
     * unprefixed, in memory layout); the returned weights hold them beside the trunk.
     *
     * @throws CheckpointException naming the file, tensor and shapes when the checkpoint is malformed or lacks a
     *     head
     */
    public static GptWeights load(Path dir, NDManager parent, List<TensorSpec> heads) {
        GptConfig config = GptConfig.read(dir);
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException("checkpoint " + dir + " has no " + WEIGHTS_FILE);
        }
        NDManager manager = parent.newSubManager();
        try {
            Map<String, NDArray> stored = readTensors(file, manager);
            boolean valueHead = stored.containsKey(GptWeights.VALUE_HEAD_WEIGHT);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            List<TensorSpec> specs = new ArrayList<>(GptWeights.specs(config, valueHead));
            specs.addAll(heads);
            for (TensorSpec spec : specs) {
                NDArray array = stored.remove(spec.name());
                if (array == null) {
                    throw new CheckpointException("checkpoint " + file + " is missing tensor " + spec.name()
                            + " (expected shape " + spec.checkpointShape() + ")");
                }
                if (!array.getShape().equals(spec.checkpointShape())) {
                    throw new CheckpointException("tensor " + spec.name() + " in " + file + " has shape "
                            + array.getShape() + " but config.json requires " + spec.checkpointShape());
                }
                tensors.put(spec.name(), toMemoryLayout(array, spec));
            }
            checkTiedHead(stored.remove("lm_head.weight"), tensors.get("wte.weight"), file);
            stored.keySet().removeIf(GptCheckpoint::isBuffer);
            if (!stored.isEmpty()) {
                LOG.warn("ignoring {} unexpected tensors in {}: {}", stored.size(), file, stored.keySet());
            }
            stored.values().forEach(NDArray::close);
            return new GptWeights(config, manager, tensors);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} into {@code dir} (created if needed); tensors of
     * the weights beyond the trunk and value head are written after them under their own names.
     */
    public static void save(GptWeights weights, Path dir) throws IOException {
        Files.createDirectories(dir);
        weights.config().write(dir);
        try (NDManager scratch = weights.manager().newSubManager()) {
            Map<String, NDArray> out = new LinkedHashMap<>();
            Set<String> trunk = new HashSet<>();
            for (TensorSpec spec : GptWeights.specs(weights.config(), weights.hasValueHead())) {
                trunk.add(spec.name());
                NDArray array = weights.get(spec.name());
                if (spec.conv1d()) {
                    NDArray view = array.transpose();
                    view.attach(scratch); // a view made from a weight would otherwise stay with the weights
                    array = view.toType(DataType.FLOAT32, true);
                }
                String name = spec.name().startsWith("v_head.") ? spec.name() : PREFIX + spec.name();
                out.put(name, array);
            }
            weights.tensors().forEach((name, array) -> {
                if (!trunk.contains(name)) {
                    out.put(name, array);
                }
            });
            SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), out);
        }
    }

    private static Map<String, NDArray> readTensors(Path file, NDManager manager) {
        Map<String, NDArray> byName = new HashMap<>();
        SafetensorsReader.read(file, manager).forEach((name, array) -> {
            String key = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
            if (byName.put(key, array) != null) {
                throw new CheckpointException("tensor " + key + " occurs twice in " + file);
            }
        });
        return byName;
    }

    private static NDArray toMemoryLayout(NDArray stored, TensorSpec spec) {
        NDArray array = stored;
        if (stored.getDataType() != DataType.FLOAT32) {
            array = stored.toType(DataType.FLOAT32, true);
            stored.close();
        }
        if (spec.conv1d()) {
            // a contiguous [out, in] copy, so every linear reads it without a stride
            // (flatten copies a transposed view into fresh row-major storage; reshape then views that storage)
            NDArray view = array.transpose();
            NDArray flat = view.flatten();
            NDArray contiguous = flat.reshape(spec.memoryShape());
            flat.close();
            view.close();
            array.close();
            array = contiguous;
        }
        array.setName(spec.name());
        return array;
    }

    private static void checkTiedHead(NDArray head, NDArray embedding, Path file) {
        if (head == null) {
            return;
        }
        Shape expected = embedding.getShape();
        if (!head.getShape().equals(expected)) {
            throw new CheckpointException("tensor lm_head.weight in " + file + " has shape " + head.getShape()
                    + " but the tied token embedding is " + expected);
        }
        head.close();
    }

    private static boolean isBuffer(String name) {
        return name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias");
    }
}
