package dev.rlhf.policy.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.GptModel;
import java.util.List;

/** Logits of one unpadded sequence from the model's full forward pass: no cache, no batch companions. */
final class FullForward {
    private FullForward() {}

    /** {@code [length][vocab]} logits of {@code tokens}. */
    static float[][] logits(GptModel model, int[] tokens) {
        int vocab = model.config().vocabSize();
        long[] ids = new long[tokens.length];
        long[] mask = new long[tokens.length];
        for (int t = 0; t < tokens.length; t++) {
            ids[t] = tokens[t];
            mask[t] = 1;
        }
        float[] flat;
        try (NDManager m = model.weights().manager().newSubManager()) {
            Shape shape = new Shape(1, tokens.length);
            flat = model.forward(m.create(ids, shape), m.create(mask, shape), false).logits().toFloatArray();
        }
        float[][] out = new float[tokens.length][vocab];
        for (int t = 0; t < tokens.length; t++) {
            System.arraycopy(flat, t * vocab, out[t], 0, vocab);
        }
        return out;
    }

    /** Log-softmax of one row of logits, in double precision. */
    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double log = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - log;
        }
        return out;
    }

    /** The prompt followed by the generated tokens. */
    static int[] concat(int[] prompt, int[] generated) {
        int[] all = java.util.Arrays.copyOf(prompt, prompt.length + generated.length);
        System.arraycopy(generated, 0, all, prompt.length, generated.length);
        return all;
    }

    /** Every returned log-prob equals log-softmax of a full forward's logits at the chosen token (1e-4). */
    static void assertLogprobsMatch(GptModel model, List<GenerationRequest> requests, List<Completion> completions) {
        for (int b = 0; b < requests.size(); b++) {
            int[] prompt = requests.get(b).promptIds();
            Completion c = completions.get(b);
            assertEquals(c.tokenIds().length, c.logprobs().length, "one logprob per token in row " + b);
            float[][] logits = FullForward.logits(model, FullForward.concat(prompt, c.tokenIds()));
            for (int j = 0; j < c.tokenIds().length; j++) {
                double expected = FullForward.logSoftmax(logits[prompt.length - 1 + j])[c.tokenIds()[j]];
                double diff = Math.abs(expected - c.logprobs()[j]);
                if (!(diff <= 1e-4)) {
                    throw new AssertionError("row " + b + ", generated token " + j + " (id " + c.tokenIds()[j]
                            + "): logprob " + c.logprobs()[j] + " but the full forward gives " + expected
                            + " (difference " + diff + ")");
                }
            }
        }
    }
}
