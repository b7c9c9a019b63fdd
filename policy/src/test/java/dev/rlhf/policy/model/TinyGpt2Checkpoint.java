package dev.rlhf.policy.model;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tiny random GPT-2 checkpoints in the Hugging Face layout, written byte by byte here (not by the code under
 * test), so loader, model and {@link ScalarGpt2Reference} can all be fed the same tensors.
 *
 * <p>Every value is a multiple of 2^-10 below 2 in magnitude, hence exact in float16 as well as float32; biases
 * and LayerNorm parameters are random too, so a bias applied twice or a gain ignored shows up.
 */
public final class TinyGpt2Checkpoint {

    /** One tensor as stored: its checkpoint name, shape and row-major values. */
    public record StoredTensor(String name, long[] shape, float[] data) {}

    private TinyGpt2Checkpoint() {}

    /** vocab 50, context 16, width 32, 2 layers, 4 heads. */
    public static GptConfig config(int eosTokenId) {
        return new GptConfig(50, 16, 32, 2, 4, 1e-5f, eosTokenId);
    }

    /** Random tensors by checkpoint name (no {@code transformer.} prefix), Conv1D weights {@code [in, out]}. */
    public static Map<String, float[]> randomTensors(GptConfig config, boolean valueHead, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (String name : names(config, valueHead)) {
            float[] data = new float[Math.toIntExact(Arrays.stream(shape(config, name)).reduce(1, (a, b) -> a * b))];
            boolean gain = name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.equals("ln_f.weight");
            double std = name.equals("wte.weight") ? 0.5
                    : name.startsWith("v_head") ? 0.3
                    : name.endsWith(".bias") ? 0.05
                    : 0.15;
            for (int i = 0; i < data.length; i++) {
                double value = (gain ? 1.0 : 0.0) + std * gaussian(random);
                data[i] = quantize(value);
            }
            tensors.put(name, data);
        }
        return tensors;
    }

    /** Every tensor name a GPT-2 checkpoint of this config holds, without the prefix. */
    public static List<String> names(GptConfig config, boolean valueHead) {
        List<String> names = new ArrayList<>(List.of("wte.weight", "wpe.weight"));
        for (int i = 0; i < config.layers(); i++) {
            for (String suffix : List.of("ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                    "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight",
                    "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")) {
                names.add("h." + i + "." + suffix);
            }
        }
        names.add("ln_f.weight");
        names.add("ln_f.bias");
        if (valueHead) {
            names.add("v_head.summary.weight");
            names.add("v_head.summary.bias");
        }
        return names;
    }

    /** The shape a Hugging Face GPT-2 checkpoint stores the tensor with. */
    public static long[] shape(GptConfig config, String name) {
        long d = config.dModel();
        String local = name.startsWith("h.") ? name.substring(name.indexOf('.', 2) + 1) : name;
        return switch (local) {
            case "wte.weight" -> new long[] {config.vocabSize(), d};
            case "wpe.weight" -> new long[] {config.contextLength(), d};
            case "attn.c_attn.weight" -> new long[] {d, 3 * d};
            case "attn.c_attn.bias" -> new long[] {3 * d};
            case "attn.c_proj.weight" -> new long[] {d, d};
            case "mlp.c_fc.weight" -> new long[] {d, 4 * d};
            case "mlp.c_fc.bias" -> new long[] {4 * d};
            case "mlp.c_proj.weight" -> new long[] {4 * d, d};
            case "v_head.summary.weight" -> new long[] {1, d};
            case "v_head.summary.bias" -> new long[] {1};
            default -> new long[] {d}; // LayerNorm gains and biases, projection biases
        };
    }

    /** The tensors as {@code save_pretrained} of {@code GPT2LMHeadModel} names them. */
    public static List<StoredTensor> stored(GptConfig config, Map<String, float[]> tensors, boolean prefixed) {
        List<StoredTensor> out = new ArrayList<>();
        tensors.forEach((name, data) -> out.add(new StoredTensor(
                prefixed && !name.startsWith("v_head.") ? "transformer." + name : name, shape(config, name), data)));
        return out;
    }

    /** Writes {@code config.json} and a float32 {@code model.safetensors} with prefixed names; returns {@code dir}. */
    public static Path write(Path dir, GptConfig config, Map<String, float[]> tensors) throws IOException {
        config.write(dir);
        writeSafetensors(dir.resolve(GptCheckpoint.WEIGHTS_FILE), stored(config, tensors, true), "F32");
        return dir;
    }

    /** Loads a checkpoint directory into a model whose weights live in a sub-manager of {@code parent}. */
    public static GptModel load(Path dir, NDManager parent) {
        return new GptModel(GptCheckpoint.load(dir, parent));
    }

    /** Writes a safetensors file by hand: 8-byte header length, JSON header, little-endian data. */
    public static void writeSafetensors(Path file, List<StoredTensor> tensors, String dtype) throws IOException {
        int bytesPerValue = switch (dtype) {
            case "F32" -> 4;
            case "F16" -> 2;
            default -> throw new IllegalArgumentException("dtype " + dtype);
        };
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (StoredTensor t : tensors) {
            long bytes = (long) t.data().length * bytesPerValue;
            StringBuilder shape = new StringBuilder();
            for (long dim : t.shape()) {
                shape.append(shape.length() == 0 ? "" : ",").append(dim);
            }
            header.append(",\"").append(t.name()).append("\":{\"dtype\":\"").append(dtype)
                    .append("\",\"shape\":[").append(shape).append("],\"data_offsets\":[")
                    .append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append('}');
        while ((header.length() + 8) % 8 != 0) {
            header.append(' ');
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(offset)).order(ByteOrder.LITTLE_ENDIAN);
        for (StoredTensor t : tensors) {
            for (float v : t.data()) {
                if (bytesPerValue == 4) {
                    data.putFloat(v);
                } else {
                    data.putShort(toHalf(v));
                }
            }
        }
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            out.write(json);
            out.write(data.array());
        }
    }

    /** IEEE half of a float that is exactly representable as one (as every value made here is). */
    static short toHalf(float v) {
        if (v == 0f) {
            return 0;
        }
        int bits = Float.floatToIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = bits & 0x7fffff;
        if (exponent <= 0 || exponent >= 31 || (mantissa & 0x1fff) != 0) {
            throw new IllegalArgumentException(v + " is not exactly representable as a normal float16");
        }
        return (short) (sign | exponent << 10 | mantissa >>> 13);
    }

    private static float quantize(double value) {
        double clamped = Math.max(-1.99, Math.min(1.99, value));
        return (float) (Math.rint(clamped * 1024) / 1024);
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
