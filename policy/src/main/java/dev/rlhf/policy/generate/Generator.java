package dev.rlhf.policy.generate;

import dev.rlhf.policy.model.GptModel;
import java.util.ArrayList;
import java.util.List;

/**
 * Batched generation with a KV cache: all requests go through one {@link BatchEngine} sized to the batch, which
 * prefills the left-padded prompts once and then decodes one token per running sequence per step, dropping
 * sequences from the batch as they finish. A generator may be used from one thread at a time.
 */
public final class Generator {
    private final GptModel model;
    private final TokenDecoder decoder;

    /**
     * @param decoder turns ids into text, or null for a model without tokenizer (then no stop strings, empty text)
     */
    public Generator(GptModel model, TokenDecoder decoder) {
        this.model = model;
        this.decoder = decoder;
    }

    /**
     * Generates a completion for every request, in request order.
     *
     * @throws IllegalArgumentException if a prompt is as long as the context or holds an unknown token id, or
     *     stop strings are asked for without a decoder
     */
    public List<Completion> generate(List<GenerationRequest> requests) {
        if (requests.isEmpty()) {
            return List.of();
        }
        Completion[] completions = new Completion[requests.size()];
        try (BatchEngine engine = new BatchEngine(model, decoder, requests.size(), columnsNeeded(requests))) {
            for (int i = 0; i < requests.size(); i++) {
                int index = i;
                engine.submit(requests.get(i), completion -> completions[index] = completion);
            }
            while (engine.hasWork()) {
                engine.step();
            }
        }
        return new ArrayList<>(List.of(completions));
    }

    /**
     * The cache columns a batch joining at once needs: every prompt ends at the longest one's end, and no request
     * adds more than the most new tokens any may add (the last sampled token is never written), so no shift is
     * ever needed.
     */
    private int columnsNeeded(List<GenerationRequest> requests) {
        int contextLength = model.config().contextLength();
        int longestPrompt = 0;
        int mostNewTokens = 0;
        for (GenerationRequest request : requests) {
            int prompt = request.promptIds().length;
            longestPrompt = Math.max(longestPrompt, prompt);
            mostNewTokens = Math.max(mostNewTokens,
                    Math.min(request.params().maxNewTokens(), Math.max(0, contextLength - prompt)));
        }
        return Math.max(1, longestPrompt + mostNewTokens);
    }
}
