package dev.rlhf.rewardmodel;

import dev.rlhf.policy.bootstrap.PromptResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * Batched scoring of (prompt, response) pairs by a reward model, normalised (see {@link RewardNormalizer}): what
 * PPO's reward comes from. The model and encoder stay owned by the caller.
 */
public final class RewardScorer {
    private final RewardModel model;
    private final SequenceEncoder encoder;
    private final RewardNormalizer normalizer;
    private final int batchSize;

    /**
     * @param batchSize sequences per forward pass
     */
    public RewardScorer(RewardModel model, SequenceEncoder encoder, RewardNormalizer normalizer, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive but was " + batchSize);
        }
        this.model = model;
        this.encoder = encoder;
        this.normalizer = normalizer;
        this.batchSize = batchSize;
    }

    /** This scorer with other normalisation statistics. */
    public RewardScorer withNormalizer(RewardNormalizer newNormalizer) {
        return new RewardScorer(model, encoder, newNormalizer, batchSize);
    }

    public RewardNormalizer normalizer() {
        return normalizer;
    }

    public RewardModel model() {
        return model;
    }

    public SequenceEncoder encoder() {
        return encoder;
    }

    /** Sequences per forward pass. */
    public int batchSize() {
        return batchSize;
    }

    /**
     * The model's raw scores of the pairs, in order; a pair longer than the context is scored on its last tokens
     * (see {@link SequenceEncoder#encodeKeepingEnd}), since these are the policy's samples.
     *
     * @throws IllegalArgumentException if a pair is empty
     */
    public float[] rawScores(List<PromptResponse> pairs) {
        List<int[]> sequences = new ArrayList<>(pairs.size());
        for (PromptResponse pair : pairs) {
            sequences.add(encoder.encodeKeepingEnd(pair.prompt(), pair.response()));
        }
        return rawScoresOfSequences(sequences);
    }

    /**
     * The tokens the model reads for a pair.
     *
     * @throws IllegalArgumentException if the pair does not fit the context
     */
    public int[] encode(PromptResponse pair) {
        return encoder.encode(pair.prompt(), pair.response());
    }

    /** The model's raw scores of sequences made by {@link #encode}, in order. */
    public float[] rawScoresOfSequences(List<int[]> sequences) {
        return model.score(sequences, batchSize);
    }

    /** Normalised scores of the pairs, in order. */
    public double[] scores(List<PromptResponse> pairs) {
        float[] raw = rawScores(pairs);
        double[] out = new double[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = normalizer.normalize(raw[i]);
        }
        return out;
    }

    /** Normalisation statistics that give the reference pairs mean 0 and unit variance under this model. */
    public RewardNormalizer fitNormalizer(List<PromptResponse> reference) {
        return RewardNormalizer.fit(rawScores(reference));
    }
}
