package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.train.CausalLmLoss;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RolloutScorerTest {

    /** Each row is re-run alone without padding through the full forward and the causal LM log-probs. */
    @Test
    void paddedBatchedScoringMatchesEachSequenceRunAlone() {
        try (NDManager manager = NDManager.newBaseManager();
                GptModel policy = TinyPolicies.withValueHead(manager, 1);
                GptModel reference = TinyPolicies.withValueHead(manager, 2)) {
            RolloutSequences batch = TinyPolicies.randomBatch(5, 4, 5, new SplittableRandom(3));
            float[] scores = {1, 2, 3, 4, 5};

            Experience experience = new RolloutScorer(policy, reference, 2).score(batch, scores);

            int width = batch.responseLength();
            for (int b = 0; b < batch.batch(); b++) {
                long[] row = Arrays.copyOfRange(batch.tokenIds(), b * batch.length(), (b + 1) * batch.length());
                long[] mask = Arrays.copyOfRange(batch.attentionMask(), b * batch.length(), (b + 1) * batch.length());
                int start = 0;
                while (mask[start] == 0) {
                    start++;
                }
                int promptTokens = batch.promptLength() - start;
                int responseTokens = batch.responseTokens(b);
                long[] alone = Arrays.copyOfRange(row, start, batch.promptLength() + responseTokens);
                float[][] own = unpadded(policy, alone, promptTokens, responseTokens, manager);
                float[][] ref = unpadded(reference, alone, promptTokens, responseTokens, manager);
                float[] padding = new float[width - responseTokens];
                assertArrayEquals(concat(own[0], padding), slice(experience.logprobs(), b, width), 1e-4f,
                        "log π_old of row " + b);
                assertArrayEquals(concat(ref[0], padding), slice(experience.refLogprobs(), b, width), 1e-4f,
                        "log π_ref of row " + b);
                assertArrayEquals(concat(own[1], padding), slice(experience.values(), b, width), 1e-4f,
                        "values of row " + b);
                assertArrayEquals(concat(own[2], padding), slice(experience.entropy(), b, width), 1e-4f,
                        "entropy of row " + b);
            }
            assertArrayEquals(scores, experience.scores());
            assertEquals(batch, experience.sequences());
        }
    }

    @Test
    void klToReferenceSumsTheScoredLogProbDifferencesOfEachSequence() {
        try (NDManager manager = NDManager.newBaseManager();
                GptModel policy = TinyPolicies.withValueHead(manager, 1);
                GptModel reference = TinyPolicies.withValueHead(manager, 2)) {
            RolloutSequences batch = TinyPolicies.randomBatch(5, 4, 5, new SplittableRandom(4));
            RolloutScorer scorer = new RolloutScorer(policy, reference, 2);
            Experience experience = scorer.score(batch, new float[batch.batch()]);

            double[] kl = scorer.klToReference(batch);

            int width = batch.responseLength();
            for (int b = 0; b < batch.batch(); b++) {
                double expected = 0;
                for (int t = 0; t < width; t++) {
                    expected += experience.logprobs()[b * width + t] - experience.refLogprobs()[b * width + t];
                }
                assertEquals(expected, kl[b], 1e-5, "KL of row " + b);
            }
            assertEquals(5, Arrays.stream(kl).distinct().count(), "every row has its own KL");
        }
    }

    /** Log-probs of the response tokens, values and entropies at the positions predicting them. */
    private static float[][] unpadded(GptModel model, long[] ids, int promptTokens, int responseTokens,
            NDManager parent) {
        try (NDManager manager = parent.newSubManager()) {
            Shape shape = new Shape(1, ids.length);
            NDArray tokens = manager.create(ids, shape);
            long[] ones = new long[ids.length];
            Arrays.fill(ones, 1);
            GptModel.Output output = model.forward(tokens, manager.create(ones, shape), true);
            float[] all = CausalLmLoss.tokenLogProbs(output.logits(), tokens).toFloatArray();
            float[] values = output.values().toFloatArray();
            // entropy -sum p log p from the softmax, independently of the scorer's log-softmax form
            NDArray p = output.logits().softmax(-1);
            float[] entropy = p.mul(p.log()).sum(new int[] {-1}).neg().toFloatArray();
            int from = promptTokens - 1;
            return new float[][] {
                Arrays.copyOfRange(all, from, from + responseTokens),
                Arrays.copyOfRange(values, from, from + responseTokens),
                Arrays.copyOfRange(entropy, from, from + responseTokens)
            };
        }
    }

    private static float[] slice(float[] rowMajor, int row, int width) {
        return Arrays.copyOfRange(rowMajor, row * width, (row + 1) * width);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
