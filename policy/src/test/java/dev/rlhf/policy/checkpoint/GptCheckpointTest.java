package dev.rlhf.policy.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.ScalarGpt2Reference;
import dev.rlhf.policy.model.TinyGpt2Checkpoint;
import dev.rlhf.policy.model.TinyGpt2Checkpoint.StoredTensor;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Reading and writing Hugging Face GPT-2 checkpoints, and the errors malformed ones give. */
class GptCheckpointTest {
    private static final int[] TOKENS = {5, 44, 17, 0, 49, 23, 8, 31, 12};
    private static final GptConfig CONFIG = TinyGpt2Checkpoint.config(-1);
    private static final Map<String, float[]> TENSORS = TinyGpt2Checkpoint.randomTensors(CONFIG, true, 31L);

    @TempDir
    Path dir;

    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void saveThenLoadGivesIdenticalLogitsAndValues() throws IOException {
        try (GptModel original = TinyGpt2Checkpoint.load(
                TinyGpt2Checkpoint.write(dir.resolve("hf"), CONFIG, TENSORS), manager)) {
            GptCheckpoint.save(original.weights(), dir.resolve("saved"));
            try (GptModel reloaded = TinyGpt2Checkpoint.load(dir.resolve("saved"), manager)) {
                assertEquals(original.config(), reloaded.config(), "config after a round trip");
                float[][] before = logitsAndValues(original);
                float[][] after = logitsAndValues(reloaded);
                for (int i = 0; i < before.length; i++) {
                    assertTrue(Arrays.equals(before[i], after[i]), (i == 0 ? "logits" : "values")
                            + " changed across save -> load; max |diff| " + maxDiff(before[i], after[i]));
                }
            }
        }
    }

    @Test
    void savedCheckpointHasTheHuggingFaceLayout() throws IOException {
        try (GptModel model = TinyGpt2Checkpoint.load(
                TinyGpt2Checkpoint.write(dir.resolve("hf"), CONFIG, TENSORS), manager)) {
            GptCheckpoint.save(model.weights(), dir.resolve("saved"));
        }
        byte[] file = Files.readAllBytes(dir.resolve("saved").resolve(GptCheckpoint.WEIGHTS_FILE));
        ByteBuffer buffer = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Math.toIntExact(buffer.getLong());
        assertEquals(0, (8 + headerLength) % 8, "tensor data must start on an 8-byte boundary");
        JsonObject header = JsonParser.parseString(new String(file, 8, headerLength, StandardCharsets.UTF_8))
                .getAsJsonObject();
        assertEquals("pt", header.getAsJsonObject("__metadata__").get("format").getAsString(), "metadata format");
        assertEquals(TENSORS.size() + 1, header.size(), "tensors in the header (plus __metadata__): "
                + header.keySet());
        TENSORS.forEach((name, expected) -> {
            String stored = name.startsWith("v_head.") ? name : "transformer." + name;
            JsonObject info = header.getAsJsonObject(stored);
            assertTrue(info != null, "saved checkpoint lacks " + stored + "; it has " + header.keySet());
            assertEquals("F32", info.get("dtype").getAsString(), "dtype of " + stored);
            long[] shape = new long[info.getAsJsonArray("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = info.getAsJsonArray("shape").get(i).getAsLong();
            }
            assertArrayEquals(TinyGpt2Checkpoint.shape(CONFIG, name), shape, "shape of " + stored);
            long begin = info.getAsJsonArray("data_offsets").get(0).getAsLong();
            FloatBuffer data = ByteBuffer.wrap(file, 8 + headerLength + Math.toIntExact(begin), expected.length * 4)
                    .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            float[] actual = new float[expected.length];
            data.get(actual);
            assertArrayEquals(expected, actual, stored + " must be saved exactly as Hugging Face lays it out");
        });
    }

    @ParameterizedTest(name = "{0}, transformer. prefix: {1}")
    @CsvSource({"F16, false", "F32, false", "F16, true", "F32, true"})
    void huggingFaceLayoutWithTiedHeadAndAttentionBuffersIsRead(String dtype, boolean prefixed) throws IOException {
        List<StoredTensor> stored = new ArrayList<>(TinyGpt2Checkpoint.stored(CONFIG, TENSORS, prefixed));
        String p = prefixed ? "transformer." : "";
        int ctx = CONFIG.contextLength();
        float[] causal = new float[ctx * ctx];
        for (int i = 0; i < ctx; i++) {
            for (int j = 0; j <= i; j++) {
                causal[i * ctx + j] = 1f;
            }
        }
        for (int layer = 0; layer < CONFIG.layers(); layer++) {
            stored.add(new StoredTensor(p + "h." + layer + ".attn.bias", new long[] {1, 1, ctx, ctx}, causal));
        }
        stored.add(0, new StoredTensor("lm_head.weight", TinyGpt2Checkpoint.shape(CONFIG, "wte.weight"),
                TENSORS.get("wte.weight")));
        CONFIG.write(dir);
        TinyGpt2Checkpoint.writeSafetensors(dir.resolve(GptCheckpoint.WEIGHTS_FILE), stored, dtype);

        try (GptModel model = TinyGpt2Checkpoint.load(dir, manager)) {
            ScalarGpt2Reference.Output expected = new ScalarGpt2Reference(CONFIG, TENSORS).forward(TOKENS);
            float[][] actual = logitsAndValues(model);
            int vocab = CONFIG.vocabSize();
            for (int t = 0; t < TOKENS.length; t++) {
                for (int v = 0; v < vocab; v++) {
                    assertClose(expected.logits()[t][v], actual[0][t * vocab + v],
                            "logit " + v + " at position " + t);
                }
                assertClose(expected.values()[t], actual[1][t], "value at position " + t);
            }
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        List<StoredTensor> stored = new ArrayList<>(TinyGpt2Checkpoint.stored(CONFIG, TENSORS, true));
        stored.removeIf(t -> t.name().equals("transformer.h.1.mlp.c_fc.bias"));
        CONFIG.write(dir);
        TinyGpt2Checkpoint.writeSafetensors(dir.resolve(GptCheckpoint.WEIGHTS_FILE), stored, "F32");

        assertLoadFailsNaming("h.1.mlp.c_fc.bias");
    }

    @Test
    void wrongShapeNamesTensorAndBothShapes() throws IOException {
        // a Conv1D weight stored [out, in] as a plain Linear would be: 128 x 32 instead of 32 x 128
        List<StoredTensor> stored = new ArrayList<>(TinyGpt2Checkpoint.stored(CONFIG, TENSORS, true));
        int at = indexOf(stored, "transformer.h.0.mlp.c_fc.weight");
        StoredTensor fc = stored.get(at);
        stored.set(at, new StoredTensor(fc.name(), new long[] {fc.shape()[1], fc.shape()[0]}, fc.data()));
        CONFIG.write(dir);
        TinyGpt2Checkpoint.writeSafetensors(dir.resolve(GptCheckpoint.WEIGHTS_FILE), stored, "F32");

        assertLoadFailsNaming("h.0.mlp.c_fc.weight", new Shape(128, 32).toString(), new Shape(32, 128).toString());
    }

    @Test
    void unknownArchitectureIsNamed() throws IOException {
        TinyGpt2Checkpoint.write(dir, CONFIG, TENSORS);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"gpt2\"", "\"llama\""));

        assertLoadFailsNaming("llama");
    }

    @Test
    void missingConfigIsNamed() throws IOException {
        TinyGpt2Checkpoint.write(dir, CONFIG, TENSORS);
        Files.delete(dir.resolve("config.json"));

        assertLoadFailsNaming("config.json");
    }

    @Test
    void missingWeightsFileIsNamed() throws IOException {
        TinyGpt2Checkpoint.write(dir, CONFIG, TENSORS);
        Files.delete(dir.resolve(GptCheckpoint.WEIGHTS_FILE));

        assertLoadFailsNaming(GptCheckpoint.WEIGHTS_FILE);
    }

    @Test
    void truncatedWeightsFileIsReported() throws IOException {
        TinyGpt2Checkpoint.write(dir, CONFIG, TENSORS);
        Path file = dir.resolve(GptCheckpoint.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 1000));

        assertLoadFailsNaming(GptCheckpoint.WEIGHTS_FILE);
    }

    @Test
    void corruptWeightsHeaderIsReported() throws IOException {
        TinyGpt2Checkpoint.write(dir, CONFIG, TENSORS);
        Path file = dir.resolve(GptCheckpoint.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(file);
        byte[] garbage = "{\"transformer.wte.weight\": [not json".getBytes(StandardCharsets.UTF_8);
        System.arraycopy(garbage, 0, bytes, 8, garbage.length);
        Files.write(file, bytes);

        assertLoadFailsNaming(GptCheckpoint.WEIGHTS_FILE);
    }

    @Test
    void tiedHeadOfWrongShapeIsNamed() throws IOException {
        List<StoredTensor> stored = new ArrayList<>(TinyGpt2Checkpoint.stored(CONFIG, TENSORS, true));
        stored.add(new StoredTensor("lm_head.weight", new long[] {CONFIG.vocabSize() - 1, CONFIG.dModel()},
                Arrays.copyOf(TENSORS.get("wte.weight"), (CONFIG.vocabSize() - 1) * CONFIG.dModel())));
        CONFIG.write(dir);
        TinyGpt2Checkpoint.writeSafetensors(dir.resolve(GptCheckpoint.WEIGHTS_FILE), stored, "F32");

        assertLoadFailsNaming("lm_head.weight");
    }

    private void assertLoadFailsNaming(String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> {
            GptWeights weights = GptCheckpoint.load(dir, manager);
            weights.close();
        });
        System.out.println("load failed as expected: " + e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment),
                    "the message should name " + fragment + " but was: " + e.getMessage());
        }
    }

    /** {logits [length * vocab], values [length]} of {@link #TOKENS}. */
    private static float[][] logitsAndValues(GptModel model) {
        long[] ids = Arrays.stream(TOKENS).asLongStream().toArray();
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        try (NDManager m = manager.newSubManager()) {
            Shape shape = new Shape(1, ids.length);
            GptModel.Output out = model.forward(m.create(ids, shape), m.create(mask, shape), true);
            return new float[][] {out.logits().toFloatArray(), out.values().toFloatArray()};
        }
    }

    private static int indexOf(List<StoredTensor> stored, String name) {
        for (int i = 0; i < stored.size(); i++) {
            if (stored.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalStateException("no tensor " + name);
    }

    private static double maxDiff(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    private static void assertClose(double expected, double actual, String what) {
        if (!(Math.abs(expected - actual) <= 1e-4)) {
            throw new AssertionError(what + ": expected " + expected + " (scalar reference) but was " + actual
                    + " (difference " + Math.abs(expected - actual) + ")");
        }
    }
}
