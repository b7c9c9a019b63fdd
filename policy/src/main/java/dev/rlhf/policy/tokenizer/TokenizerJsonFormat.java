package dev.rlhf.policy.tokenizer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import java.util.List;

/** Renders a {@link ByteLevelBpe} in the layout of GPT-2's Hugging Face {@code tokenizer.json}. */
final class TokenizerJsonFormat {

    private static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    private TokenizerJsonFormat() {}

    static String render(ByteLevelBpe bpe) {
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        root.add("added_tokens", addedTokens(bpe));
        root.add("normalizer", JsonNull.INSTANCE);
        // No prefix space: decode(encode(text)) must give back text exactly.
        root.add("pre_tokenizer", byteLevel());
        root.add("post_processor", byteLevel());
        root.add("decoder", byteLevel());
        root.add("model", model(bpe));
        return GSON.toJson(root) + "\n";
    }

    private static JsonArray addedTokens(ByteLevelBpe bpe) {
        JsonArray added = new JsonArray();
        for (String special : bpe.specialTokens()) {
            JsonObject token = new JsonObject();
            token.addProperty("id", bpe.idOf(special));
            token.addProperty("content", special);
            token.addProperty("single_word", false);
            token.addProperty("lstrip", false);
            token.addProperty("rstrip", false);
            token.addProperty("normalized", false);
            token.addProperty("special", true);
            added.add(token);
        }
        return added;
    }

    private static JsonObject byteLevel() {
        JsonObject component = new JsonObject();
        component.addProperty("type", "ByteLevel");
        component.addProperty("add_prefix_space", false);
        component.addProperty("trim_offsets", true);
        component.addProperty("use_regex", true);
        return component;
    }

    private static JsonObject model(ByteLevelBpe bpe) {
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.addProperty("continuing_subword_prefix", "");
        model.addProperty("end_of_word_suffix", "");
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", false);
        JsonObject vocab = new JsonObject();
        List<String> tokens = bpe.vocabulary();
        for (int id = 0; id < tokens.size(); id++) {
            vocab.addProperty(tokens.get(id), id);
        }
        model.add("vocab", vocab);
        // "left right" strings, as in GPT-2's file: byte-level symbols never contain a space.
        JsonArray merges = new JsonArray();
        for (ByteLevelBpe.Merge merge : bpe.merges()) {
            merges.add(merge.left() + " " + merge.right());
        }
        model.add("merges", merges);
        return model;
    }
}
