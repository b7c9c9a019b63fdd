package dev.rlhf.policy.bootstrap;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The small files next to {@code tokenizer.json} that let {@code transformers.AutoTokenizer} load it. */
final class TokenizerFiles {
    private TokenizerFiles() {}

    static void writeConfig(Path dir) throws IOException {
        JsonObject config = new JsonObject();
        config.addProperty("tokenizer_class", "GPT2TokenizerFast");
        config.addProperty("bos_token", TextTokenizer.END_OF_TEXT);
        config.addProperty("eos_token", TextTokenizer.END_OF_TEXT);
        config.addProperty("unk_token", TextTokenizer.END_OF_TEXT);
        config.addProperty("add_prefix_space", false);
        config.addProperty("model_max_length", 1024);
        Files.writeString(dir.resolve("tokenizer_config.json"),
                new GsonBuilder().setPrettyPrinting().create().toJson(config), StandardCharsets.UTF_8);
    }
}
