package dev.rlhf.policy.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Shape of a GPT-2 decoder, read from and written to a Hugging Face {@code config.json}.
 *
 * @param vocabSize number of token embeddings (and logits)
 * @param contextLength number of learned positions ({@code n_positions}); no sequence may be longer
 * @param dModel width of the residual stream ({@code n_embd})
 * @param layers number of transformer blocks ({@code n_layer})
 * @param heads attention heads per block ({@code n_head}); must divide {@code dModel}
 * @param layerNormEpsilon epsilon of every LayerNorm
 * @param eosTokenId id of the end-of-sequence token, or -1 if the model has none
 */
public record GptConfig(
        int vocabSize,
        int contextLength,
        int dModel,
        int layers,
        int heads,
        float layerNormEpsilon,
        int eosTokenId) {

    public static final String FILE_NAME = "config.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    public GptConfig {
        requirePositive(vocabSize, "vocabSize");
        requirePositive(contextLength, "contextLength");
        requirePositive(dModel, "dModel");
        requirePositive(layers, "layers");
        requirePositive(heads, "heads");
        if (dModel % heads != 0) {
            throw new IllegalArgumentException(
                    "dModel must be a multiple of heads but was dModel=" + dModel + ", heads=" + heads);
        }
        if (!(layerNormEpsilon > 0)) {
            throw new IllegalArgumentException("layerNormEpsilon must be positive but was " + layerNormEpsilon);
        }
        if (eosTokenId >= vocabSize) {
            throw new IllegalArgumentException(
                    "eosTokenId must be below vocabSize=" + vocabSize + " but was " + eosTokenId);
        }
    }

    /** A config with GPT-2's defaults for everything but the sizes. */
    public static GptConfig of(int vocabSize, int contextLength, int dModel, int layers, int heads, int eosTokenId) {
        return new GptConfig(vocabSize, contextLength, dModel, layers, heads, 1e-5f, eosTokenId);
    }

    /** Width of one attention head. */
    public int headDim() {
        return dModel / heads;
    }

    /** Width of the MLP's hidden layer (GPT-2 uses four times the residual width). */
    public int innerDim() {
        return 4 * dModel;
    }

    /**
     * Reads {@code config.json} of a GPT-2 checkpoint.
     *
     * @throws CheckpointException if the file is missing, is not GPT-2, or lacks a size
     */
    public static GptConfig read(Path checkpointDir) {
        Path file = checkpointDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException("checkpoint " + checkpointDir + " has no " + FILE_NAME);
        }
        JsonObject json;
        try {
            json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        String modelType = json.has("model_type") ? json.get("model_type").getAsString() : "<missing>";
        if (!"gpt2".equals(modelType)) {
            throw new CheckpointException(
                    "unknown architecture in " + file + ": model_type is " + modelType + ", expected gpt2");
        }
        String activation = optString(json, "activation_function", "gelu_new");
        if (!activation.equals("gelu_new") && !activation.equals("gelu_pytorch_tanh")) {
            throw new CheckpointException(
                    "unsupported activation_function " + activation + " in " + file + "; expected gelu_new");
        }
        int dModel = requiredInt(json, "n_embd", file);
        JsonElement inner = json.get("n_inner");
        if (inner != null && !inner.isJsonNull() && inner.getAsInt() != 4 * dModel) {
            throw new CheckpointException("unsupported n_inner " + inner + " in " + file + "; expected 4 * n_embd");
        }
        try {
            return new GptConfig(
                    requiredInt(json, "vocab_size", file),
                    requiredInt(json, "n_positions", file),
                    dModel,
                    requiredInt(json, "n_layer", file),
                    requiredInt(json, "n_head", file),
                    json.has("layer_norm_epsilon") ? json.get("layer_norm_epsilon").getAsFloat() : 1e-5f,
                    json.has("eos_token_id") && !json.get("eos_token_id").isJsonNull()
                            ? json.get("eos_token_id").getAsInt()
                            : -1);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("invalid " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code config.json} in the form {@code transformers.GPT2LMHeadModel} loads. */
    public void write(Path checkpointDir) throws IOException {
        JsonObject json = new JsonObject();
        json.addProperty("model_type", "gpt2");
        json.add("architectures", GSON.toJsonTree(List.of("GPT2LMHeadModel")));
        json.addProperty("vocab_size", vocabSize);
        json.addProperty("n_positions", contextLength);
        json.addProperty("n_ctx", contextLength);
        json.addProperty("n_embd", dModel);
        json.addProperty("n_layer", layers);
        json.addProperty("n_head", heads);
        json.add("n_inner", null);
        json.addProperty("activation_function", "gelu_new");
        json.addProperty("layer_norm_epsilon", layerNormEpsilon);
        json.addProperty("resid_pdrop", 0.0);
        json.addProperty("embd_pdrop", 0.0);
        json.addProperty("attn_pdrop", 0.0);
        json.addProperty("initializer_range", 0.02);
        json.addProperty("scale_attn_weights", true);
        json.addProperty("tie_word_embeddings", true);
        if (eosTokenId >= 0) {
            json.addProperty("bos_token_id", eosTokenId);
            json.addProperty("eos_token_id", eosTokenId);
        }
        json.addProperty("torch_dtype", "float32");
        Files.createDirectories(checkpointDir);
        Files.writeString(checkpointDir.resolve(FILE_NAME), GSON.toJson(json), StandardCharsets.UTF_8);
    }

    private static int requiredInt(JsonObject json, String key, Path file) {
        JsonElement value = json.get(key);
        if (value == null || value.isJsonNull()) {
            throw new CheckpointException(file + " lacks required key " + key);
        }
        return value.getAsInt();
    }

    private static String optString(JsonObject json, String key, String fallback) {
        JsonElement value = json.get(key);
        return value == null || value.isJsonNull() ? fallback : value.getAsString();
    }

    private static void requirePositive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive but was " + value);
        }
    }
}
