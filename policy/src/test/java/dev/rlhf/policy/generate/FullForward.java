package dev.rlhf.policy.generate;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.GptModel;

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
}
