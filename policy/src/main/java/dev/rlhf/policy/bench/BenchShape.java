package dev.rlhf.policy.bench;

import dev.rlhf.policy.model.GptConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model and batch shape every {@code bench} command shares ({@code --layers --d-model --heads --vocab --batch
 * --prompt-len --new-tokens}).
 */
public record BenchShape(int layers, int dModel, int heads, int vocab, int batch, int promptLength, int newTokens) {

    /** A random-weight model config just large enough for the prompt and the new tokens. */
    public GptConfig modelConfig() {
        return GptConfig.of(vocab, promptLength + newTokens, dModel, layers, heads, -1);
    }

    /** The shape as JSON-ready key/value pairs, in flag order. */
    public Map<String, Object> asMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("layers", layers);
        map.put("d_model", dModel);
        map.put("heads", heads);
        map.put("vocab", vocab);
        map.put("batch", batch);
        map.put("prompt_len", promptLength);
        map.put("new_tokens", newTokens);
        return map;
    }
}
