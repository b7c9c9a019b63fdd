package dev.rlhf.policy.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses the next token of one sequence from its distribution, on the Java side, with the sequence's own
 * random stream, so a seed reproduces a sample whatever else shares the batch. Not thread-safe: one per sequence.
 */
final class TokenSampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private float[] weights = new float[0];
    private float[] scratch = new float[0];

    TokenSampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /**
     * @param ranking any monotone image of the raw logits (log-softmax or probabilities at temperature 1),
     *     {@code vocab} entries from {@code offset}; greedy rows take its arg-max
     * @param probs softmax at the sequence's temperature (same layout), or null when greedy
     * @param logits raw logits (same layout), or null when no repetition penalty applies
     * @param history the tokens already in the sequence (prompt and generated), for the repetition penalty
     */
    int choose(float[] ranking, float[] probs, float[] logits, int offset, int vocab, int[] history, int historyLength) {
        boolean penalised = params.repetitionPenalty() != 1f;
        if (params.isGreedy()) {
            return penalised ? argMaxPenalised(logits, offset, vocab, history, historyLength)
                    : argMax(ranking, offset, vocab);
        }
        boolean filtered = penalised || params.topK() > 0 && params.topK() < vocab || params.topP() < 1f;
        if (!filtered) {
            return draw(probs, offset, vocab, 1.0);
        }
        if (weights.length < vocab) {
            weights = new float[vocab];
            scratch = new float[vocab];
        }
        System.arraycopy(probs, offset, weights, 0, vocab);
        if (penalised) {
            applyPenalty(logits, offset, history, historyLength);
        }
        if (params.topK() > 0 && params.topK() < vocab) {
            keepTopK(vocab, params.topK());
        }
        if (params.topP() < 1f) {
            keepTopP(vocab, params.topP());
        }
        double total = 0;
        for (int i = 0; i < vocab; i++) {
            total += weights[i];
        }
        return draw(weights, 0, vocab, total);
    }

    private int draw(float[] w, int offset, int vocab, double total) {
        double target = random.nextDouble() * total;
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < vocab; i++) {
            float p = w[offset + i];
            if (p > 0) {
                cumulative += p;
                lastPositive = i;
                if (cumulative > target) {
                    return i;
                }
            }
        }
        // rounding left the cumulative sum a hair below the target: the last candidate is the right answer
        return lastPositive;
    }

    /** HF semantics: a seen token's logit l becomes l / penalty if positive, l * penalty otherwise. */
    private void applyPenalty(float[] logits, int offset, int[] history, int historyLength) {
        float penalty = params.repetitionPenalty();
        double inverseTemperature = 1.0 / params.temperature();
        for (int j = 0; j < historyLength; j++) {
            int token = history[j];
            if (weights[token] < 0) {
                continue; // already penalised: it occurs twice in the history
            }
            float logit = logits[offset + token];
            float penalisedLogit = logit > 0 ? logit / penalty : logit * penalty;
            weights[token] = -(float) (weights[token] * Math.exp((penalisedLogit - logit) * inverseTemperature));
        }
        for (int j = 0; j < historyLength; j++) {
            weights[history[j]] = Math.abs(weights[history[j]]);
        }
    }

    /** Zeroes every weight below the k-th largest (ties with it are kept, as Hugging Face does). */
    private void keepTopK(int vocab, int k) {
        System.arraycopy(weights, 0, scratch, 0, vocab);
        float threshold = kthLargest(scratch, vocab, k);
        for (int i = 0; i < vocab; i++) {
            if (weights[i] < threshold) {
                weights[i] = 0;
            }
        }
    }

    /** Keeps the most likely tokens until their mass reaches {@code topP} of the remaining mass. */
    private void keepTopP(int vocab, float topP) {
        double total = 0;
        float max = 0;
        for (int i = 0; i < vocab; i++) {
            total += weights[i];
            max = Math.max(max, weights[i]);
        }
        double target = topP * total;
        // gather candidates above a falling threshold until they can cover the target mass, then sort only those
        float threshold = max / 64;
        int count;
        while (true) {
            count = 0;
            double mass = 0;
            for (int i = 0; i < vocab; i++) {
                if (weights[i] >= threshold && weights[i] > 0) {
                    scratch[count++] = weights[i];
                    mass += weights[i];
                }
            }
            if (mass >= target || threshold == 0f) {
                break;
            }
            threshold = threshold < Float.MIN_NORMAL ? 0f : threshold / 64;
        }
        Arrays.sort(scratch, 0, count);
        double cumulative = 0;
        float cut = scratch[count - 1];
        for (int i = count - 1; i >= 0; i--) {
            cumulative += scratch[i];
            cut = scratch[i];
            if (cumulative >= target) {
                break;
            }
        }
        for (int i = 0; i < vocab; i++) {
            if (weights[i] < cut) {
                weights[i] = 0;
            }
        }
    }

    private static float kthLargest(float[] values, int length, int k) {
        // quickselect for index (length - k) in ascending order
        int lo = 0;
        int hi = length - 1;
        int target = length - k;
        while (lo < hi) {
            float pivot = values[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (values[i] < pivot) {
                    i++;
                }
                while (values[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    float t = values[i];
                    values[i] = values[j];
                    values[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                break;
            }
        }
        return values[target];
    }

    private static int argMax(float[] values, int offset, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (values[offset + i] > values[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    private int argMaxPenalised(float[] logits, int offset, int vocab, int[] history, int historyLength) {
        if (weights.length < vocab) {
            weights = new float[vocab];
            scratch = new float[vocab];
        }
        System.arraycopy(logits, offset, weights, 0, vocab);
        float penalty = params.repetitionPenalty();
        boolean[] seen = new boolean[vocab];
        for (int j = 0; j < historyLength; j++) {
            int token = history[j];
            if (!seen[token]) {
                seen[token] = true;
                float logit = weights[token];
                weights[token] = logit > 0 ? logit / penalty : logit * penalty;
            }
        }
        return argMax(weights, 0, vocab);
    }
}
