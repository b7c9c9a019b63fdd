package dev.rlhf.policy.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.AttentionBias;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.KvCache;
import dev.rlhf.policy.model.TinyGpt2Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cached decoding, step by step and through {@link Generator}, against full forward passes without a cache. */
class KvCacheGenerationTest {
    private static final double TOLERANCE = 1e-4;
    private static final int[][] PROMPTS = {{4, 19, 33, 2, 41}, {27, 8}, {1, 45, 12, 30, 9, 22, 16, 38}};

    @TempDir
    static Path dir;

    private static NDManager manager;
    private static GptModel model;

    @BeforeAll
    static void loadTinyCheckpoint() throws Exception {
        GptConfig config = TinyGpt2Checkpoint.config(-1);
        manager = NDManager.newBaseManager();
        model = TinyGpt2Checkpoint.load(
                TinyGpt2Checkpoint.write(dir, config, TinyGpt2Checkpoint.randomTensors(config, false, 21L)), manager);
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    @Test
    void kvCacheMatchesFullForwardWithLeftPaddingAndCompaction() {
        GptConfig config = model.config();
        int batch = PROMPTS.length;
        int promptLength = Arrays.stream(PROMPTS).mapToInt(p -> p.length).max().orElseThrow();
        int steps = 6;
        int capacity = promptLength + steps;
        int vocab = config.vocabSize();
        SplittableRandom random = new SplittableRandom(5);
        List<int[]> sequences = new ArrayList<>(Arrays.asList(PROMPTS));
        // cache row -> index into PROMPTS, changed by compaction
        int[] rows = {0, 1, 2};
        try (NDManager m = manager.newSubManager();
                KvCache cache = KvCache.allocate(m, config, batch, capacity)) {
            long[] ids = new long[batch * promptLength];
            long[] mask = new long[batch * promptLength];
            for (int b = 0; b < batch; b++) {
                int pad = promptLength - PROMPTS[b].length;
                for (int t = 0; t < PROMPTS[b].length; t++) {
                    ids[b * promptLength + pad + t] = PROMPTS[b][t];
                    mask[b * promptLength + pad + t] = 1;
                }
            }
            float[] logits;
            try (NDManager step = m.newSubManager()) {
                Shape shape = new Shape(batch, promptLength);
                NDArray hidden = model.hiddenStates(step.create(ids, shape), step.create(mask, shape),
                        new KvCache.Region(cache, 0, 0));
                logits = model.logits(hidden.get(":, -1, :")).toFloatArray();
            }
            assertStepMatchesFullForward(logits, rows, sequences, vocab, "prefill");

            for (int s = 0; s < steps; s++) {
                int slot = promptLength + s;
                if (s == 3) {
                    // drop the middle row, moving the last into its place, as the engine compacts finished rows
                    cache.copyRow(2, 1, 0, slot);
                    rows = new int[] {rows[0], rows[2]};
                }
                int active = rows.length;
                long[] tokens = new long[active];
                long[] positions = new long[active];
                int width = slot + 1;
                float[] bias = new float[active * width];
                Arrays.fill(bias, AttentionBias.MASKED);
                for (int r = 0; r < active; r++) {
                    int row = rows[r];
                    int token = random.nextInt(vocab);
                    int[] grown = Arrays.copyOf(sequences.get(row), sequences.get(row).length + 1);
                    grown[grown.length - 1] = token;
                    sequences.set(row, grown);
                    tokens[r] = token;
                    positions[r] = grown.length - 1;
                    int pad = promptLength - PROMPTS[row].length;
                    Arrays.fill(bias, r * width + pad, r * width + slot + 1, 0f);
                }
                try (NDManager step = m.newSubManager()) {
                    NDArray hidden = model.decodeStep(step.create(tokens), step.create(positions),
                            step.create(bias, new Shape(active, 1, 1, width)), cache, 0, slot);
                    logits = model.logits(hidden).toFloatArray();
                }
                assertStepMatchesFullForward(logits, rows, sequences, vocab, "decoding step " + s);
            }
        }
    }

    @Test
    void sampledLogprobsMatchFullForwardWhenRowsStopEarly() {
        List<SamplingParams> params = List.of(
                SamplingParams.sample(7, 101L), SamplingParams.sample(7, 202L).withTemperature(0.7f).withRepetitionPenalty(1.3f),
                SamplingParams.sample(7, 303L).withTopK(5));
        checkEarlyStopsAndLogprobs(params);
    }

    @Test
    void greedyLogprobsMatchFullForwardWhenRowsStopEarly() {
        List<SamplingParams> params = List.of(
                SamplingParams.greedy(7), SamplingParams.greedy(7), SamplingParams.greedy(7));
        checkEarlyStopsAndLogprobs(params);
    }

    @Test
    void rowStoppedAtItsFirstTokenLeavesTheOthersUnaffected() {
        // row 0 leaves the batch after one token; the last row moves into its cache row
        int[][] prompts = {{3, 9}, {14, 2, 7}, {30}, {8, 8, 8, 1}, {22, 40}};
        List<GenerationRequest> free = new ArrayList<>();
        for (int b = 0; b < prompts.length; b++) {
            free.add(new GenerationRequest(prompts[b], SamplingParams.sample(6, 500L + b)));
        }
        Generator generator = new Generator(model, null);
        List<Completion> unstopped = generator.generate(free);
        int stopId = unstopped.get(0).tokenIds()[0];
        List<GenerationRequest> requests = new ArrayList<>(free);
        requests.set(0, new GenerationRequest(prompts[0], free.get(0).params().withStopTokenIds(Set.of(stopId))));

        List<Completion> completions = generator.generate(requests);

        assertArrayEquals(new int[] {stopId}, completions.get(0).tokenIds(),
                "row 0 stopped at its first token " + stopId + " but kept generating: "
                        + Arrays.toString(completions.get(0).tokenIds()));
        assertEquals(FinishReason.STOP, completions.get(0).finishReason(), "finish reason of the stopped row");
        assertEquals(1, completions.get(0).logprobs().length, "one logprob for the one token of the stopped row");
        for (int b = 1; b < prompts.length; b++) {
            assertArrayEquals(unstopped.get(b).tokenIds(), completions.get(b).tokenIds(),
                    "row " + b + " must not be affected by row 0 stopping");
        }
        FullForward.assertLogprobsMatch(model, requests, completions);
    }

    @Test
    void shortPromptBesideLongOneGetsItsWholeBudgetWithMatchingLogprobs() {
        // context 16: the 12-token prompt has room for 4 tokens, the 2-token prompt for all 12 it asks for,
        // although left padding puts the latter's tokens in slots 12..23 of the cache
        int context = model.config().contextLength();
        int[] longPrompt = {3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 32};
        List<GenerationRequest> requests = List.of(
                new GenerationRequest(new int[] {10, 20}, SamplingParams.sample(12, 61L)),
                new GenerationRequest(longPrompt, SamplingParams.sample(12, 62L)));

        List<Completion> completions = new Generator(model, null).generate(requests);

        assertEquals(12, completions.get(0).tokenIds().length, "tokens of the short prompt (max_new_tokens 12)");
        assertEquals(FinishReason.LENGTH, completions.get(0).finishReason(), "finish reason of the short prompt");
        assertEquals(context - longPrompt.length, completions.get(1).tokenIds().length,
                "tokens of the long prompt, bounded by the context");
        assertEquals(FinishReason.LENGTH, completions.get(1).finishReason(), "finish reason of the long prompt");
        FullForward.assertLogprobsMatch(model, requests, completions);
    }

    private static void checkEarlyStopsAndLogprobs(List<SamplingParams> params) {
        Generator generator = new Generator(model, null);
        List<GenerationRequest> free = new ArrayList<>();
        for (int b = 0; b < PROMPTS.length; b++) {
            free.add(new GenerationRequest(PROMPTS[b], params.get(b)));
        }
        List<Completion> unstopped = generator.generate(free);
        FullForward.assertLogprobsMatch(model, free, unstopped);

        // rows 1 and 2 stop at the token they produced at step 1 and step 3; row 0 runs to its length
        List<GenerationRequest> requests = new ArrayList<>(free);
        int[] stopAt = {-1, 1, 3};
        for (int b = 1; b < PROMPTS.length; b++) {
            int stopId = unstopped.get(b).tokenIds()[stopAt[b]];
            requests.set(b, new GenerationRequest(PROMPTS[b], params.get(b).withStopTokenIds(Set.of(stopId))));
        }

        List<Completion> completions = generator.generate(requests);

        FullForward.assertLogprobsMatch(model, requests, completions);
        assertArrayEquals(unstopped.get(0).tokenIds(), completions.get(0).tokenIds(),
                "row 0 has no stop token and must generate what it generated alone with its companions");
        assertEquals(FinishReason.LENGTH, completions.get(0).finishReason(), "finish reason of row 0");
        for (int b = 1; b < PROMPTS.length; b++) {
            int[] all = unstopped.get(b).tokenIds();
            int stopId = all[stopAt[b]];
            int first = 0;
            while (all[first] != stopId) {
                first++;
            }
            assertArrayEquals(Arrays.copyOf(all, first + 1), completions.get(b).tokenIds(),
                    "row " + b + " must end at the first " + stopId + " of " + Arrays.toString(all));
            assertEquals(FinishReason.STOP, completions.get(b).finishReason(), "finish reason of row " + b);
        }
    }

    /** Each returned logprob equals log-softmax of a cache-free, padding-free forward at the chosen token. */
    private static void assertStepMatchesFullForward(
            float[] logits, int[] rows, List<int[]> sequences, int vocab, String step) {
        for (int r = 0; r < rows.length; r++) {
            int[] tokens = sequences.get(rows[r]);
            float[] expected = FullForward.logits(model, tokens)[tokens.length - 1];
            for (int v = 0; v < vocab; v++) {
                double diff = Math.abs(expected[v] - logits[r * vocab + v]);
                if (!(diff <= TOLERANCE)) {
                    throw new AssertionError(step + ", cache row " + r + " (prompt " + rows[r] + ", "
                            + tokens.length + " tokens): logit " + v + " is " + logits[r * vocab + v]
                            + " but the full forward gives " + expected[v] + " (difference " + diff + ")");
                }
            }
        }
    }
}
