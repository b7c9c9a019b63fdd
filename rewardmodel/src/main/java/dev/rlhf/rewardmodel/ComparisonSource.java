package dev.rlhf.rewardmodel;

import dev.rlhf.policy.Policy;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.FinishReason;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Pairs of responses to the same prompt, for annotators to judge. Deterministic for a seed. */
public final class ComparisonSource {
    private static final int GENERATION_BATCH = 64;

    private ComparisonSource() {}

    /**
     * Two responses sampled from {@code policy} for each prompt, multinomial at temperature 1 with distinct
     * seeds. A response that ended on the EOS token keeps it in its text, as the corpus responses do.
     *
     * @throws IllegalArgumentException if maxNewTokens is not positive or a prompt fills the context
     */
    public static List<Comparison> fromPolicy(Policy policy, List<String> prompts, int maxNewTokens, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Comparison> comparisons = new ArrayList<>(prompts.size());
        int perBatch = GENERATION_BATCH / 2;
        for (int start = 0; start < prompts.size(); start += perBatch) {
            List<String> chunk = prompts.subList(start, Math.min(prompts.size(), start + perBatch));
            List<GenerationRequest> requests = new ArrayList<>(2 * chunk.size());
            for (String prompt : chunk) {
                int[] ids = policy.tokenizer().encode(prompt);
                requests.add(new GenerationRequest(ids, SamplingParams.sample(maxNewTokens, random.nextLong())));
                requests.add(new GenerationRequest(ids, SamplingParams.sample(maxNewTokens, random.nextLong())));
            }
            List<Completion> completions = policy.generator().generate(requests);
            for (int i = 0; i < chunk.size(); i++) {
                comparisons.add(new Comparison(chunk.get(i), responseText(completions.get(2 * i)),
                        responseText(completions.get(2 * i + 1))));
            }
        }
        return comparisons;
    }

    /**
     * {@code count} pairs of corpus responses to a shared prompt: fast and covering the whole quality range.
     * Responses come from a pool of {@code poolFactor * count} SFT-style pairs grouped by prompt; each
     * comparison picks a prompt with at least two pooled responses, then two distinct responses of it.
     *
     * @throws IllegalArgumentException if count is negative or poolFactor is below 2
     */
    public static List<Comparison> fromCorpus(ReviewCorpus corpus, int count, int poolFactor, long seed) {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative but was " + count);
        }
        if (poolFactor < 2) {
            throw new IllegalArgumentException("poolFactor must be at least 2 but was " + poolFactor);
        }
        Map<String, List<String>> byPrompt = new LinkedHashMap<>();
        for (PromptResponse pair : corpus.sftPairs(count * poolFactor, seed)) {
            byPrompt.computeIfAbsent(pair.prompt(), p -> new ArrayList<>()).add(pair.response());
        }
        List<Map.Entry<String, List<String>>> groups = byPrompt.entrySet().stream()
                .filter(e -> e.getValue().size() >= 2).toList();
        SplittableRandom random = new SplittableRandom(seed + 1);
        List<Comparison> comparisons = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Map.Entry<String, List<String>> group = groups.get(random.nextInt(groups.size()));
            List<String> responses = group.getValue();
            int a = random.nextInt(responses.size());
            int b = (a + 1 + random.nextInt(responses.size() - 1)) % responses.size();
            comparisons.add(new Comparison(group.getKey(), responses.get(a), responses.get(b)));
        }
        return comparisons;
    }

    /** A completion's text as the corpus writes responses: an EOS that ended it stays in the text. */
    public static String responseText(Completion completion) {
        return completion.finishReason() == FinishReason.EOS
                ? completion.text() + TextTokenizer.END_OF_TEXT : completion.text();
    }
}
