package dev.rlhf.policy.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.TinyGpt2Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** What {@link Generator} promises about sampling parameters, seeds and finish reasons, on a tiny random model. */
class GeneratorSamplingTest {
    private static final double TOLERANCE = 1e-4;
    private static final int[][] PROMPTS = {{4, 19, 33, 2}, {27, 8, 40, 13, 6, 49, 3, 22, 1}, {35}};
    /** One letter per token id, so stop strings can span tokens. */
    private static final TokenDecoder LETTERS = ids -> {
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            text.append((char) (id < 26 ? 'a' + id : 'A' + id - 26));
        }
        return text.toString();
    };

    @TempDir
    static Path dir;

    private static NDManager manager;
    private static GptModel model;
    private static Generator generator;

    @BeforeAll
    static void loadTinyCheckpoint() throws Exception {
        GptConfig config = TinyGpt2Checkpoint.config(-1);
        manager = NDManager.newBaseManager();
        model = TinyGpt2Checkpoint.load(TinyGpt2Checkpoint.write(
                dir.resolve("no-eos"), config, TinyGpt2Checkpoint.randomTensors(config, false, 41L)), manager);
        generator = new Generator(model, LETTERS);
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    @Test
    void sameSeedGivesSameTokensWhateverTheBatch() {
        GenerationRequest request = new GenerationRequest(new int[] {12, 7, 30, 44}, SamplingParams.sample(8, 77L));
        Completion alone = generator.generate(List.of(request)).get(0);

        List<Completion> batched = generator.generate(List.of(
                new GenerationRequest(PROMPTS[1], SamplingParams.sample(3, 1L)),
                new GenerationRequest(PROMPTS[2], SamplingParams.greedy(10)),
                request));

        assertArrayEquals(alone.tokenIds(), batched.get(2).tokenIds(),
                "seed 77 alone gave " + Arrays.toString(alone.tokenIds()) + ", third in a batch with longer and "
                        + "shorter prompts gave " + Arrays.toString(batched.get(2).tokenIds()));
        for (int j = 0; j < alone.logprobs().length; j++) {
            assertEquals(alone.logprobs()[j], batched.get(2).logprobs()[j], TOLERANCE, "logprob of token " + j);
        }
    }

    @Test
    void differentSeedsGiveDifferentTokens() {
        List<Completion> completions = generator.generate(List.of(
                new GenerationRequest(PROMPTS[0], SamplingParams.sample(10, 1L)),
                new GenerationRequest(PROMPTS[0], SamplingParams.sample(10, 2L))));

        assertFalse(Arrays.equals(completions.get(0).tokenIds(), completions.get(1).tokenIds()),
                "seeds 1 and 2 both gave " + Arrays.toString(completions.get(0).tokenIds()));
    }

    @Test
    void temperatureZeroPicksTheArgMaxOfTheFullForward() {
        List<Completion> completions = generateAll(SamplingParams.greedy(8));
        for (int b = 0; b < PROMPTS.length; b++) {
            int[] tokens = completions.get(b).tokenIds();
            float[][] logits = FullForward.logits(model, FullForward.concat(PROMPTS[b], tokens));
            for (int j = 0; j < tokens.length; j++) {
                float[] step = logits[PROMPTS[b].length - 1 + j];
                int best = argMax(step);
                // a near-tie within the tolerance may go either way
                assertTrue(step[tokens[j]] >= step[best] - TOLERANCE, "row " + b + ", step " + j + ": chose "
                        + tokens[j] + " (logit " + step[tokens[j]] + ") but the arg-max is " + best
                        + " (logit " + step[best] + ")");
            }
        }
    }

    @Test
    void greedyRepetitionPenaltyPicksTheArgMaxOfPenalisedFullForwardLogits() {
        float penalty = 2.5f;
        List<Completion> completions = generateAll(SamplingParams.greedy(8).withRepetitionPenalty(penalty));
        boolean changed = false;
        for (int b = 0; b < PROMPTS.length; b++) {
            int[] tokens = completions.get(b).tokenIds();
            int[] all = FullForward.concat(PROMPTS[b], tokens);
            float[][] logits = FullForward.logits(model, all);
            for (int j = 0; j < tokens.length; j++) {
                int at = PROMPTS[b].length - 1 + j;
                float[] step = logits[at].clone();
                // HF: every distinct token of the prompt and the completion so far, once
                boolean[] seen = new boolean[step.length];
                for (int t = 0; t <= at; t++) {
                    if (!seen[all[t]]) {
                        seen[all[t]] = true;
                        step[all[t]] = step[all[t]] > 0 ? step[all[t]] / penalty : step[all[t]] * penalty;
                    }
                }
                int best = argMax(step);
                changed |= best != argMax(logits[at]);
                assertTrue(step[tokens[j]] >= step[best] - TOLERANCE, "row " + b + ", step " + j + ": chose "
                        + tokens[j] + " (penalised logit " + step[tokens[j]] + ") but the penalised arg-max is "
                        + best + " (" + step[best] + ")");
            }
        }
        assertTrue(changed, "a penalty of " + penalty + " should change at least one of the 24 greedy choices");
    }

    @Test
    void topKOneEqualsGreedy() {
        assertSameTokens(generateAll(SamplingParams.greedy(8)),
                generateAll(SamplingParams.sample(8, 5L).withTemperature(1.5f).withTopK(1)), "top_k = 1");
    }

    @Test
    void tinyTopPEqualsGreedy() {
        assertSameTokens(generateAll(SamplingParams.greedy(8)),
                generateAll(SamplingParams.sample(8, 6L).withTopP(1e-6f)), "top_p = 1e-6");
    }

    @Test
    void topKChoosesOnlyAmongTheKMostLikely() {
        int k = 3;
        int offTop = 0;
        for (long seed = 1; seed <= 3; seed++) {
            List<Completion> completions = generateAll(SamplingParams.sample(10, seed).withTemperature(2f).withTopK(k));
            for (int b = 0; b < PROMPTS.length; b++) {
                int[] tokens = completions.get(b).tokenIds();
                float[][] logits = FullForward.logits(model, FullForward.concat(PROMPTS[b], tokens));
                for (int j = 0; j < tokens.length; j++) {
                    float[] step = logits[PROMPTS[b].length - 1 + j];
                    int rank = 0;
                    for (float l : step) {
                        rank += l > step[tokens[j]] + TOLERANCE ? 1 : 0;
                    }
                    assertTrue(rank < k, "seed " + seed + ", row " + b + ", step " + j + ": token " + tokens[j]
                            + " has rank " + rank + " in the full forward's logits, outside the top " + k);
                    offTop += rank > 0 ? 1 : 0;
                }
            }
        }
        assertTrue(offTop > 0, "at temperature 2 some of 90 draws should fall below the top token");
    }

    @Test
    void stopTokenEndsWithStopAndIsTheLastToken() {
        int[] free = generator.generate(List.of(new GenerationRequest(PROMPTS[0], SamplingParams.sample(10, 9L))))
                .get(0).tokenIds();
        int stop = free[4];

        Completion c = generator.generate(List.of(new GenerationRequest(
                PROMPTS[0], SamplingParams.sample(10, 9L).withStopTokenIds(Set.of(stop))))).get(0);

        assertEquals(FinishReason.STOP, c.finishReason(), "finish reason");
        assertArrayEquals(Arrays.copyOf(free, firstIndexOf(free, stop) + 1), c.tokenIds(),
                "tokens must run up to and including the first stop token " + stop + " of "
                        + Arrays.toString(free));
    }

    @Test
    void configEosEndsWithEos() throws Exception {
        int[] free = generator.generate(List.of(new GenerationRequest(PROMPTS[1], SamplingParams.greedy(6))))
                .get(0).tokenIds();
        int eos = free[2];
        Path eosDir = dir.resolve("eos-" + eos);
        TinyGpt2Checkpoint.config(eos).write(eosDir);
        Files.copy(dir.resolve("no-eos").resolve(GptCheckpoint.WEIGHTS_FILE), eosDir.resolve(GptCheckpoint.WEIGHTS_FILE));

        try (GptModel eosModel = TinyGpt2Checkpoint.load(eosDir, manager)) {
            Completion c = new Generator(eosModel, null)
                    .generate(List.of(new GenerationRequest(PROMPTS[1], SamplingParams.greedy(6)))).get(0);

            assertEquals(FinishReason.EOS, c.finishReason(), "finish reason with eos_token_id " + eos);
            assertArrayEquals(Arrays.copyOf(free, firstIndexOf(free, eos) + 1), c.tokenIds(),
                    "tokens must end at the first eos " + eos + " of " + Arrays.toString(free));
        }
    }

    @Test
    void maxNewTokensGivesLengthAndExactlyThatManyTokens() {
        List<Completion> completions = generator.generate(List.of(
                new GenerationRequest(PROMPTS[0], SamplingParams.sample(3, 1L)),
                new GenerationRequest(PROMPTS[1], SamplingParams.greedy(5)),
                new GenerationRequest(PROMPTS[2], SamplingParams.sample(1, 2L))));
        int[] expected = {3, 5, 1};
        for (int b = 0; b < expected.length; b++) {
            assertEquals(FinishReason.LENGTH, completions.get(b).finishReason(), "finish reason of row " + b);
            assertEquals(expected[b], completions.get(b).tokenIds().length, "tokens of row " + b);
            assertEquals(expected[b], completions.get(b).logprobs().length, "logprobs of row " + b);
        }
    }

    @Test
    void reachingTheContextLengthGivesLength() {
        int context = model.config().contextLength();
        int[] prompt = {3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 32};

        Completion c = generator.generate(List.of(new GenerationRequest(prompt, SamplingParams.sample(20, 3L))))
                .get(0);

        assertEquals(FinishReason.LENGTH, c.finishReason(), "finish reason at the context length");
        assertEquals(context - prompt.length, c.tokenIds().length,
                "prompt and completion together must fill the context of " + context + " exactly");
    }

    @Test
    void stopStringEndsWithStopAndCutsTheText() {
        Completion free = generator.generate(List.of(new GenerationRequest(PROMPTS[2], SamplingParams.sample(10, 4L))))
                .get(0);
        String stop = free.text().substring(5, 7);
        int cut = free.text().indexOf(stop);

        Completion c = generator.generate(List.of(new GenerationRequest(
                PROMPTS[2], SamplingParams.sample(10, 4L).withStopStrings(List.of("zzzz", stop))))).get(0);

        assertEquals(FinishReason.STOP, c.finishReason(), "finish reason for stop string '" + stop + "'");
        assertEquals(free.text().substring(0, cut), c.text(),
                "text must be cut before the first '" + stop + "' of '" + free.text() + "'");
        assertArrayEquals(Arrays.copyOf(free.tokenIds(), cut + stop.length()), c.tokenIds(),
                "generation must stop at the token that completes '" + stop + "'");
    }

    @Test
    void invalidSamplingParamsNameTheField() {
        SamplingParams ok = SamplingParams.sample(4, 1L);
        assertRejected(() -> ok.withTemperature(-0.5f), "temperature");
        assertRejected(() -> ok.withTopP(0f), "top_p");
        assertRejected(() -> ok.withTopP(1.5f), "top_p");
        assertRejected(() -> ok.withTopK(-1), "top_k");
        assertRejected(() -> ok.withMaxNewTokens(0), "max_new_tokens");
    }

    @Test
    void promptTokenOutsideTheVocabularyIsRejected() {
        int vocab = model.config().vocabSize();
        for (int bad : new int[] {vocab, -1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> generator.generate(
                    List.of(new GenerationRequest(new int[] {1, bad, 2}, SamplingParams.greedy(2)))));
            assertTrue(e.getMessage().contains(String.valueOf(bad)), "message should name id " + bad + ": "
                    + e.getMessage());
        }
    }

    @Test
    void emptyPromptAndStopStringsWithoutDecoderAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new GenerationRequest(new int[0], SamplingParams.greedy(1)),
                "an empty prompt");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Generator(model, null)
                .generate(List.of(new GenerationRequest(PROMPTS[0],
                        SamplingParams.greedy(4).withStopStrings(List.of("ab"))))));
        assertTrue(e.getMessage().contains("stop strings"), "message should name stop strings: " + e.getMessage());
    }

    @Test
    void promptAsLongAsTheContextIsRejected() {
        int[] prompt = new int[model.config().contextLength()];
        Executable call = () -> generator.generate(List.of(new GenerationRequest(prompt, SamplingParams.greedy(1))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(String.valueOf(prompt.length)), "message should give the prompt length: "
                + e.getMessage());
    }

    private static List<Completion> generateAll(SamplingParams params) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int b = 0; b < PROMPTS.length; b++) {
            requests.add(new GenerationRequest(PROMPTS[b], params.withSeed(params.seed() + 1000L * b)));
        }
        return generator.generate(requests);
    }

    private static void assertSameTokens(List<Completion> expected, List<Completion> actual, String what) {
        for (int b = 0; b < expected.size(); b++) {
            assertArrayEquals(expected.get(b).tokenIds(), actual.get(b).tokenIds(),
                    what + ", row " + b + ": expected the greedy " + Arrays.toString(expected.get(b).tokenIds())
                            + " but got " + Arrays.toString(actual.get(b).tokenIds()));
        }
    }

    private static void assertRejected(Supplier<SamplingParams> build, String field) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::get,
                "invalid " + field + " must be rejected");
        assertTrue(e.getMessage().contains(field), "message should name " + field + ": " + e.getMessage());
    }

    private static int firstIndexOf(int[] tokens, int token) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == token) {
                return i;
            }
        }
        throw new IllegalStateException(token + " not in " + Arrays.toString(tokens));
    }

    private static int argMax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
