package dev.rlhf.policy.generate;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * The next-token distributions of a batch, copied to the Java side: raw log-probabilities always, probabilities
 * at each row's temperature when any row samples, raw logits when any row needs a repetition penalty.
 */
final class StepDistribution {
    private final int vocab;
    private final float[] logprobs;
    private final float[] probs;
    private final float[] logits;

    private StepDistribution(int vocab, float[] logprobs, float[] probs, float[] logits) {
        this.vocab = vocab;
        this.logprobs = logprobs;
        this.probs = probs;
        this.logits = logits;
    }

    /** Reads {@code logits [batch, vocab]}; its native intermediates stay in its manager. */
    static StepDistribution of(NDArray logits, List<SamplingParams> rows) {
        int vocab = Math.toIntExact(logits.getShape().get(1));
        NDArray logSoftmax = logits.logSoftmax(-1);
        boolean anySampled = false;
        boolean allUnitTemperature = true;
        boolean anyPenalty = false;
        float[] inverseTemperature = new float[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            SamplingParams p = rows.get(i);
            anySampled |= !p.isGreedy();
            allUnitTemperature &= p.isGreedy() || p.temperature() == 1f;
            anyPenalty |= p.repetitionPenalty() != 1f;
            inverseTemperature[i] = p.isGreedy() ? 1f : 1f / p.temperature();
        }
        float[] probs = null;
        if (anySampled) {
            NDArray tempered = allUnitTemperature
                    ? logSoftmax.exp()
                    : logits.mul(logits.getManager().create(inverseTemperature).reshape(-1, 1)).softmax(-1);
            probs = tempered.toFloatArray();
        }
        return new StepDistribution(vocab, logSoftmax.toFloatArray(), probs, anyPenalty ? logits.toFloatArray() : null);
    }

    int choose(TokenSampler sampler, int row, int[] history, int historyLength) {
        return sampler.choose(logprobs, probs, logits, row * vocab, vocab, history, historyLength);
    }

    float logprob(int row, int token) {
        return logprobs[row * vocab + token];
    }
}
