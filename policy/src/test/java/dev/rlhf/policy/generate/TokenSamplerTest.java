package dev.rlhf.policy.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * {@link TokenSampler} on hand-made six-token distributions: the empirical frequencies of many seeded draws against
 * the distribution Hugging Face's logits processors define, computed independently here.
 */
class TokenSamplerTest {
    private static final float[] LOGITS = {2.0f, 1.5f, 1.0f, 0.5f, -0.5f, -1.0f};
    private static final int DRAWS = 20_000;
    /** Chi-square critical value at p = 1e-4 for five degrees of freedom (the most any case here has). */
    private static final double CHI_SQUARE_LIMIT = 25.7;

    @Test
    void temperatureAloneSamplesTheTemperedSoftmax() {
        SamplingParams params = SamplingParams.sample(1, 42L).withTemperature(0.7f);
        assertFrequenciesMatch(params, new int[0], expected(LOGITS, 0.7, 0, 1.0, 1.0, new int[0]));
    }

    @Test
    void topKSamplesTheRenormalisedKMostLikely() {
        SamplingParams params = SamplingParams.sample(1, 43L).withTemperature(1.3f).withTopK(3);
        double[] expected = expected(LOGITS, 1.3, 3, 1.0, 1.0, new int[0]);
        assertEquals(3, Arrays.stream(expected).filter(p -> p > 0).count(), "top-3 support of the hand-made case");
        assertFrequenciesMatch(params, new int[0], expected);
    }

    @Test
    void topPSamplesTheRenormalisedSmallestNucleus() {
        // probabilities 0.420, 0.255, 0.154, 0.094, ...: the smallest set reaching 0.8 has three tokens
        SamplingParams params = SamplingParams.sample(1, 44L).withTopP(0.8f);
        double[] expected = expected(LOGITS, 1.0, 0, 0.8, 1.0, new int[0]);
        assertEquals(3, Arrays.stream(expected).filter(p -> p > 0).count(), "top-p 0.8 support of the hand-made case");
        assertFrequenciesMatch(params, new int[0], expected);
    }

    @Test
    void topKAndTopPWithTemperatureCombineInHuggingFaceOrder() {
        SamplingParams params = SamplingParams.sample(1, 45L).withTemperature(1.6f).withTopK(4).withTopP(0.7f);
        assertFrequenciesMatch(params, new int[0], expected(LOGITS, 1.6, 4, 0.7, 1.0, new int[0]));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOnce() {
        // token 0 (positive logit) occurs twice, tokens 4 and 5 (negative logits) once
        int[] history = {0, 4, 0, 5};
        SamplingParams params = SamplingParams.sample(1, 46L).withTemperature(0.9f).withRepetitionPenalty(1.8f);
        assertFrequenciesMatch(params, history, expected(LOGITS, 0.9, 0, 1.0, 1.8, history));
    }

    @Test
    void repetitionPenaltyAppliesBeforeTopK() {
        // penalised logits: token 0 2.0 / 1.8 = 1.11, token 1 1.5 / 1.8 = 0.83; the top 2 become tokens 0 and 2
        int[] history = {0, 1, 1};
        SamplingParams params = SamplingParams.sample(1, 47L).withRepetitionPenalty(1.8f).withTopK(2);
        double[] expected = expected(LOGITS, 1.0, 2, 1.0, 1.8, history);
        assertEquals(0.0, expected[1], "token 1 (1.5 / 1.8 = 0.83) drops out of the top 2 of the hand-made case");
        assertFrequenciesMatch(params, history, expected);
    }

    @Test
    void greedyRepetitionPenaltyFollowsHuggingFaceSemantics() {
        SamplingParams greedy = SamplingParams.greedy(1).withRepetitionPenalty(1.5f);
        // positive logit divided: 2.0 / 1.5 = 1.33 < 1.9 (multiplying would keep token 0 on top)
        assertEquals(1, chooseOnce(greedy, new float[] {2.0f, 1.9f, 0.3f}, new int[] {0}),
                "a seen positive logit must be divided by the penalty");
        // negative logit multiplied: -1.0 * 1.5 = -1.5 < -1.2 (dividing would give -0.67 and keep token 0)
        assertEquals(1, chooseOnce(greedy, new float[] {-1.0f, -1.2f, -3.0f}, new int[] {0}),
                "a seen negative logit must be multiplied by the penalty");
        // without the penalty the same logits give token 0
        assertEquals(0, chooseOnce(SamplingParams.greedy(1), new float[] {-1.0f, -1.2f, -3.0f}, new int[] {0}),
                "greedy without penalty");
    }

    @Test
    void tinyTopPAlwaysPicksTheMostLikelyToken() {
        int[] counts = draw(SamplingParams.sample(1, 48L).withTopP(1e-6f), new int[0], 2_000);
        assertArrayEquals(new int[] {2_000, 0, 0, 0, 0, 0}, counts, "draws with top_p = 1e-6");
    }

    @Test
    void sameSeedGivesSameDrawsAndOtherSeedsDiffer() {
        SamplingParams params = SamplingParams.sample(1, 7L).withTemperature(1.5f);
        int[] first = drawSequence(params, 50);
        assertArrayEquals(first, drawSequence(params, 50), "two samplers with seed 7");
        int[] other = drawSequence(params.withSeed(8L), 50);
        assertEquals(false, Arrays.equals(first, other), "seeds 7 and 8 drew the same 50 tokens");
    }

    private static void assertFrequenciesMatch(SamplingParams params, int[] history, double[] expected) {
        int[] counts = draw(params, history, DRAWS);
        double chiSquare = 0;
        for (int v = 0; v < expected.length; v++) {
            if (expected[v] == 0) {
                assertEquals(0, counts[v], "token " + v + " is filtered out but was drawn " + counts[v]
                        + " times; counts " + Arrays.toString(counts));
            } else {
                double e = expected[v] * DRAWS;
                chiSquare += (counts[v] - e) * (counts[v] - e) / e;
            }
        }
        if (!(chiSquare < CHI_SQUARE_LIMIT)) {
            throw new AssertionError("frequencies " + Arrays.toString(counts) + " of " + DRAWS
                    + " draws do not fit the expected distribution " + Arrays.toString(expected)
                    + ": chi-square " + chiSquare + " >= " + CHI_SQUARE_LIMIT);
        }
    }

    /** Counts of {@code draws} tokens drawn by one sampler from the hand-made distribution. */
    private static int[] draw(SamplingParams params, int[] history, int draws) {
        int[] counts = new int[LOGITS.length];
        for (int token : drawSequence(params, history, draws)) {
            counts[token]++;
        }
        return counts;
    }

    private static int[] drawSequence(SamplingParams params, int draws) {
        return drawSequence(params, new int[0], draws);
    }

    /**
     * Draws from row 1 of a two-row batch (row 0 is a decoy favouring token 5), as the generator lays rows out,
     * with the probabilities the generator passes: softmax of the logits at the sequence's temperature.
     */
    private static int[] drawSequence(SamplingParams params, int[] history, int draws) {
        int vocab = LOGITS.length;
        float[] decoy = {-5f, -5f, -5f, -5f, -5f, 5f};
        float[] logits = new float[2 * vocab];
        System.arraycopy(decoy, 0, logits, 0, vocab);
        System.arraycopy(LOGITS, 0, logits, vocab, vocab);
        double temperature = params.isGreedy() ? 1.0 : params.temperature();
        float[] logprobs = new float[2 * vocab];
        float[] probs = new float[2 * vocab];
        for (int row = 0; row < 2; row++) {
            float[] one = Arrays.copyOfRange(logits, row * vocab, (row + 1) * vocab);
            double[] raw = softmax(one, 1.0);
            double[] tempered = softmax(one, temperature);
            for (int v = 0; v < vocab; v++) {
                logprobs[row * vocab + v] = (float) Math.log(raw[v]);
                probs[row * vocab + v] = (float) tempered[v];
            }
        }
        TokenSampler sampler = new TokenSampler(params);
        int[] tokens = new int[draws];
        for (int i = 0; i < draws; i++) {
            tokens[i] = sampler.choose(logprobs, params.isGreedy() ? null : probs, logits, vocab, vocab,
                    history, history.length);
        }
        return tokens;
    }

    private static int chooseOnce(SamplingParams params, float[] logits, int[] history) {
        double[] raw = softmax(logits, 1.0);
        float[] logprobs = new float[logits.length];
        for (int v = 0; v < logits.length; v++) {
            logprobs[v] = (float) Math.log(raw[v]);
        }
        return new TokenSampler(params).choose(logprobs, null, logits, 0, logits.length, history, history.length);
    }

    /**
     * The distribution Hugging Face's processors define, in their order: repetition penalty on each distinct seen
     * token, temperature, top-k, then top-p (smallest set of most likely tokens whose mass reaches p), renormalised.
     */
    static double[] expected(float[] logits, double temperature, int topK, double topP, double penalty,
            int[] history) {
        float[] penalised = logits.clone();
        int[] seen = IntStream.of(history).distinct().toArray();
        for (int token : seen) {
            float l = logits[token];
            penalised[token] = (float) (l > 0 ? l / penalty : l * penalty);
        }
        double[] p = softmax(penalised, temperature);
        Integer[] order = IntStream.range(0, p.length).boxed().sorted(Comparator.comparingDouble(i -> -p[i]))
                .toArray(Integer[]::new);
        if (topK > 0) {
            for (int r = topK; r < order.length; r++) {
                p[order[r]] = 0;
            }
            normalise(p);
        }
        if (topP < 1) {
            double cumulative = 0;
            for (int r = 0; r < order.length; r++) {
                if (cumulative >= topP) {
                    p[order[r]] = 0;
                }
                cumulative += p[order[r]];
            }
            normalise(p);
        }
        return p;
    }

    private static double[] softmax(float[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l / temperature);
        }
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] / temperature - max);
        }
        normalise(p);
        return p;
    }

    private static void normalise(double[] p) {
        double total = Arrays.stream(p).sum();
        for (int i = 0; i < p.length; i++) {
            p[i] /= total;
        }
    }
}
