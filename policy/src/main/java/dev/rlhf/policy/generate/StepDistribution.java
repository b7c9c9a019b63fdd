package dev.rlhf.policy.generate;

import ai.djl.ndarray.NDArray;
import dev.rlhf.policy.model.TorchOps;
import java.util.List;

/**
 * The next-token distributions of a batch, copied to the Java side: raw log-probabilities always, probabilities
 * at each row's temperature when any row samples, raw logits when any row needs a repetition penalty.
 */
final class StepDistribution {
    private final int vocab;
    /** Raw log-softmax, or null when every row is at temperature 1 and it is the log of {@link #probs}. */
    private final float[] logprobs;
    /** Probabilities at each row's temperature, or null when no row samples. */
    private final float[] probs;
    /** What greedy rows take the arg-max of (any monotone image of the logits does). */
    private final float[] ranking;
    private final float[] logits;

    private StepDistribution(int vocab, float[] logprobs, float[] probs, float[] ranking, float[] logits) {
        this.vocab = vocab;
        this.logprobs = logprobs;
        this.probs = probs;
        this.ranking = ranking;
        this.logits = logits;
    }

    /**
     * Reads {@code logits [batch, vocab]}; its native intermediates stay in its manager. When every sampled row
     * is at temperature 1 only the probabilities cross to the Java side (one softmax and one copy), and a
     * token's log-probability is taken as the log of its float probability: within 1e-7 of the log-softmax for any
     * token with a probability above 1e-30, which covers every token a sampler can realistically draw.
     */
    static StepDistribution of(NDArray logits, List<SamplingParams> rows) {
        int vocab = Math.toIntExact(logits.getShape().get(1));
        boolean anySampled = false;
        boolean anyGreedy = false;
        boolean allUnitTemperature = true;
        boolean anyPenalty = false;
        float[] inverseTemperature = new float[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            SamplingParams p = rows.get(i);
            anySampled |= !p.isGreedy();
            anyGreedy |= p.isGreedy();
            allUnitTemperature &= p.isGreedy() || p.temperature() == 1f;
            anyPenalty |= p.repetitionPenalty() != 1f;
            inverseTemperature[i] = p.isGreedy() ? 1f : 1f / p.temperature();
        }
        float[] rawLogits = anyPenalty ? TorchOps.toFloatArray(logits) : null;
        if (anySampled && allUnitTemperature) {
            float[] probs = TorchOps.toFloatArray(logits.softmax(-1));
            return new StepDistribution(vocab, null, probs, probs, rawLogits);
        }
        float[] probs = anySampled
                ? TorchOps.toFloatArray(
                        logits.mul(logits.getManager().create(inverseTemperature).reshape(-1, 1)).softmax(-1))
                : null;
        float[] logprobs = TorchOps.toFloatArray(logits.logSoftmax(-1));
        return new StepDistribution(vocab, logprobs, probs, anyGreedy ? logprobs : probs, rawLogits);
    }

    int choose(TokenSampler sampler, int row, int[] history, int historyLength) {
        return sampler.choose(ranking, probs, logits, row * vocab, vocab, history, historyLength);
    }

    float logprob(int row, int token) {
        int i = row * vocab + token;
        return logprobs != null ? logprobs[i] : (float) Math.log(probs[i]);
    }
}
