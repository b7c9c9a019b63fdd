package dev.rlhf.policy.generate;

import java.util.List;
import java.util.Set;

/**
 * How to sample one sequence. Filters apply in Hugging Face's order: repetition penalty, temperature, top-k,
 * top-p.
 *
 * @param temperature softmax temperature; 0 means greedy (arg-max) decoding
 * @param topK keep only the k most likely tokens; 0 disables
 * @param topP keep the smallest set of most likely tokens whose probability reaches this mass; 1 disables
 * @param maxNewTokens most tokens to generate
 * @param repetitionPenalty divides positive and multiplies negative logits of tokens already in the sequence
 *     (prompt included); 1 disables
 * @param stopTokenIds generation stops after any of these tokens (which is kept in the output ids)
 * @param stopStrings generation stops once the generated text contains any of these (cut from the text)
 * @param seed seed of this sequence's own random stream: equal seeds give equal samples whatever the batch
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        int maxNewTokens,
        float repetitionPenalty,
        Set<Integer> stopTokenIds,
        List<String> stopStrings,
        long seed) {

    public SamplingParams {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0 but was " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 but was " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1] but was " + topP);
        }
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("max_new_tokens must be positive but was " + maxNewTokens);
        }
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be > 0 but was " + repetitionPenalty);
        }
        stopTokenIds = Set.copyOf(stopTokenIds);
        stopStrings = List.copyOf(stopStrings);
        for (String stop : stopStrings) {
            if (stop.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** Plain multinomial sampling at temperature 1. */
    public static SamplingParams sample(int maxNewTokens, long seed) {
        return new SamplingParams(1f, 0, 1f, maxNewTokens, 1f, Set.of(), List.of(), seed);
    }

    /** Greedy decoding. */
    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(0f, 0, 1f, maxNewTokens, 1f, Set.of(), List.of(), 0L);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    public SamplingParams withSeed(long newSeed) {
        return new SamplingParams(temperature, topK, topP, maxNewTokens, repetitionPenalty, stopTokenIds,
                stopStrings, newSeed);
    }

    public SamplingParams withTemperature(float t) {
        return new SamplingParams(t, topK, topP, maxNewTokens, repetitionPenalty, stopTokenIds, stopStrings, seed);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, maxNewTokens, repetitionPenalty, stopTokenIds, stopStrings,
                seed);
    }

    public SamplingParams withTopP(float p) {
        return new SamplingParams(temperature, topK, p, maxNewTokens, repetitionPenalty, stopTokenIds, stopStrings,
                seed);
    }

    public SamplingParams withRepetitionPenalty(float penalty) {
        return new SamplingParams(temperature, topK, topP, maxNewTokens, penalty, stopTokenIds, stopStrings, seed);
    }

    public SamplingParams withStopTokenIds(Set<Integer> ids) {
        return new SamplingParams(temperature, topK, topP, maxNewTokens, repetitionPenalty, ids, stopStrings, seed);
    }

    public SamplingParams withStopStrings(List<String> stops) {
        return new SamplingParams(temperature, topK, topP, maxNewTokens, repetitionPenalty, stopTokenIds, stops, seed);
    }

    public SamplingParams withMaxNewTokens(int n) {
        return new SamplingParams(temperature, topK, topP, n, repetitionPenalty, stopTokenIds, stopStrings, seed);
    }
}
