package dev.rlhf.policy.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Text to token ids and back, through a Hugging Face {@code tokenizer.json} (ours from {@link
 * ByteLevelBpeTrainer} or a real GPT-2 one) loaded into DJL's native tokenizer.
 *
 * <p>Encoding adds no special tokens of its own and never truncates or pads; special tokens written
 * in the text (such as {@link #END_OF_TEXT}) still encode to their ids. Nothing is downloaded: the
 * tokenizer only ever comes from a local file.
 */
public final class TextTokenizer implements AutoCloseable {

    /** GPT-2's end-of-text token, the EOS of every model this project builds. */
    public static final String END_OF_TEXT = "<|endoftext|>";

    static {
        // The project runs offline; without this DJL asks the EC2 metadata endpoint on first use.
        if (System.getenv("OPT_OUT_TRACKING") == null
                && System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final OptionalInt eosTokenId;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int vocabSize, OptionalInt eosTokenId) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.eosTokenId = eosTokenId;
    }

    /**
     * Loads a tokenizer from a {@code tokenizer.json} file or a directory holding one.
     *
     * @throws IOException if the file is missing, unreadable or not a tokenizer the native library
     *     accepts
     */
    public static TextTokenizer load(Path fileOrDirectory) throws IOException {
        Objects.requireNonNull(fileOrDirectory, "fileOrDirectory");
        Path file =
                Files.isDirectory(fileOrDirectory)
                        ? fileOrDirectory.resolve(ByteLevelBpe.TOKENIZER_FILE_NAME)
                        : fileOrDirectory;
        if (!Files.isRegularFile(file)) {
            throw new IOException("no tokenizer file at " + file);
        }
        int vocabSize;
        OptionalInt eosTokenId;
        try {
            JsonObject json =
                    JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8))
                            .getAsJsonObject();
            vocabSize = vocabSize(json);
            eosTokenId = eosTokenId(json);
        } catch (RuntimeException e) {
            throw new IOException("not a tokenizer.json with a model vocabulary: " + file, e);
        }
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer =
                    HuggingFaceTokenizer.builder()
                            .optTokenizerPath(file)
                            .optAddSpecialTokens(false)
                            .optTruncation(false)
                            .optPadding(false)
                            .build();
        } catch (RuntimeException e) {
            throw new IOException("the tokenizer library rejected " + file, e);
        }
        return new TextTokenizer(tokenizer, vocabSize, eosTokenId);
    }

    /** Returns the token ids of {@code text}; special tokens in it map to their own ids. */
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        long[] ids = tokenizer.encode(text).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Returns the text of {@code ids}, leaving out special tokens.
     *
     * @throws IllegalArgumentException if an id is outside {@code [0, vocabSize())}
     */
    public String decode(int[] ids) {
        return tokenizer.decode(checkedIds(ids), true);
    }

    /**
     * Returns what one token decodes to on its own, special tokens included; a token holding part
     * of a multi-byte character decodes to U+FFFD.
     *
     * @throws IllegalArgumentException if {@code id} is outside {@code [0, vocabSize())}
     */
    public String tokenText(int id) {
        return tokenizer.decode(checkedIds(new int[] {id}), false);
    }

    /** Returns the id of {@link #END_OF_TEXT}, if the vocabulary has it. */
    public OptionalInt eosTokenId() {
        return eosTokenId;
    }

    /** Returns one more than the largest token id, special tokens included. */
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private long[] checkedIds(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException(
                        "ids[" + i + "] must be in [0, " + vocabSize + ") but was: " + ids[i]);
            }
            out[i] = ids[i];
        }
        return out;
    }

    private static int vocabSize(JsonObject json) {
        int maxId = -1;
        JsonElement vocab = json.getAsJsonObject("model").get("vocab");
        if (vocab.isJsonObject()) {
            for (Map.Entry<String, JsonElement> entry : vocab.getAsJsonObject().entrySet()) {
                maxId = Math.max(maxId, entry.getValue().getAsInt());
            }
        } else {
            // Unigram models list [piece, score] pairs in id order.
            maxId = vocab.getAsJsonArray().size() - 1;
        }
        for (JsonElement added : addedTokens(json)) {
            maxId = Math.max(maxId, added.getAsJsonObject().get("id").getAsInt());
        }
        return maxId + 1;
    }

    private static OptionalInt eosTokenId(JsonObject json) {
        for (JsonElement added : addedTokens(json)) {
            JsonObject token = added.getAsJsonObject();
            if (END_OF_TEXT.equals(token.get("content").getAsString())) {
                return OptionalInt.of(token.get("id").getAsInt());
            }
        }
        JsonElement vocab = json.getAsJsonObject("model").get("vocab");
        if (vocab.isJsonObject() && vocab.getAsJsonObject().has(END_OF_TEXT)) {
            return OptionalInt.of(vocab.getAsJsonObject().get(END_OF_TEXT).getAsInt());
        }
        return OptionalInt.empty();
    }

    private static Iterable<JsonElement> addedTokens(JsonObject json) {
        JsonElement added = json.get("added_tokens");
        return added == null || added.isJsonNull() ? List.of() : added.getAsJsonArray();
    }
}
