package dev.rlhf.rewardmodel;

import dev.rlhf.policy.train.Gradients;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reward model: a GPT-2 trunk and a scalar head {@code score} ({@code [1, dModel]} weight and {@code [1]}
 * bias, Hugging Face's {@code GPT2ForSequenceClassification} names) read at the last real token of each sequence.
 * Padding may sit anywhere; only the position of the last token whose mask is 1 matters, and with causal
 * attention that token never sees right padding, so a padded sequence scores as it does alone.
 *
 * <p>Like {@link GptModel}, every result is allocated in the manager of the first input array.
 */
public final class RewardModel implements AutoCloseable {
    public static final String SCORE_WEIGHT = "score.weight";
    public static final String SCORE_BIAS = "score.bias";

    private final GptModel trunk;
    private final NDArray scoreWeight;
    private final NDArray scoreBias;

    private RewardModel(GptWeights weights) {
        this.trunk = new GptModel(weights);
        this.scoreWeight = weights.get(SCORE_WEIGHT);
        this.scoreBias = weights.get(SCORE_BIAS);
    }

    /** The tensors of the score head for a trunk of this config. */
    public static List<TensorSpec> headSpecs(GptConfig config) {
        return List.of(
                new TensorSpec(SCORE_WEIGHT, new Shape(1, config.dModel()), false),
                new TensorSpec(SCORE_BIAS, new Shape(1), false));
    }

    /**
     * Wraps weights that hold the trunk and the score head (as {@link RewardModelCheckpoint} loads them); takes
     * ownership of them.
     *
     * @throws CheckpointException if the score head is missing or has the wrong shape
     */
    public static RewardModel of(GptWeights weights) {
        for (TensorSpec spec : headSpecs(weights.config())) {
            NDArray array = weights.tensors().get(spec.name());
            if (array == null) {
                throw new CheckpointException("reward model weights lack tensor " + spec.name());
            }
            if (!array.getShape().equals(spec.memoryShape())) {
                throw new CheckpointException("tensor " + spec.name() + " has shape " + array.getShape()
                        + " but the config requires " + spec.memoryShape());
            }
        }
        return new RewardModel(weights);
    }

    /**
     * A reward model on a policy's trunk (the SFT checkpoint, as is standard) with a zero score head, so every
     * pair starts at the Bradley–Terry loss ln 2. Takes ownership of {@code policy}; its value head, if any, is
     * closed and dropped, and so is its LM head, which is tied to the token embedding and so costs nothing.
     */
    public static RewardModel initialise(GptWeights policy) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (TensorSpec spec : GptWeights.specs(policy.config(), false)) {
            tensors.put(spec.name(), policy.get(spec.name()));
        }
        if (policy.hasValueHead()) {
            policy.get(GptWeights.VALUE_HEAD_WEIGHT).close();
            policy.get(GptWeights.VALUE_HEAD_BIAS).close();
        }
        NDManager manager = policy.manager();
        for (TensorSpec spec : headSpecs(policy.config())) {
            NDArray zeros = manager.zeros(spec.memoryShape());
            zeros.setName(spec.name());
            tensors.put(spec.name(), zeros);
        }
        return new RewardModel(new GptWeights(policy.config(), manager, tensors));
    }

    /** A reward model with GPT-2's random initialisation (for benchmarks and tests) in a sub-manager of parent. */
    public static RewardModel random(GptConfig config, NDManager parent, long seed) {
        return initialise(GptWeights.random(config, false, parent, seed));
    }

    public GptConfig config() {
        return trunk.config();
    }

    /** Trunk and head tensors by name: what training updates and checkpoints hold. */
    public GptWeights weights() {
        return trunk.weights();
    }

    /**
     * Scores of a padded batch: the head applied to the final hidden state of each row's last real token.
     *
     * @param tokenIds {@code [batch, length]} int64
     * @param attentionMask {@code [batch, length]}, 1 for real tokens; every row needs at least one
     * @return {@code [batch]} float32 scores, differentiable with respect to the weights
     * @throws IllegalArgumentException if a row has no real token
     */
    public NDArray scores(NDArray tokenIds, NDArray attentionMask) {
        Shape shape = tokenIds.getShape();
        int batch = Math.toIntExact(shape.get(0));
        int length = Math.toIntExact(shape.get(1));
        long[] mask = attentionMask.toType(DataType.INT64, false).toLongArray();
        long[] last = new long[batch];
        for (int b = 0; b < batch; b++) {
            last[b] = -1;
            for (int t = 0; t < length; t++) {
                if (mask[b * length + t] != 0) {
                    last[b] = t;
                }
            }
            if (last[b] < 0) {
                throw new IllegalArgumentException("row " + b + " of the batch has no real token");
            }
        }
        return head(trunk.hiddenStatesAt(tokenIds, attentionMask, last)).reshape(batch);
    }

    /**
     * Scores of preference pairs packed with their shared prefix computed once: {@code [pairs, 2]}, the chosen and
     * the rejected sequence's score in each row, the values {@link #scores} gives the sequences apart.
     *
     * @throws IllegalArgumentException if a position is beyond the context length
     */
    public NDArray pairScores(SharedPrefixPairs pairs) {
        NDArray hidden = trunk.hiddenStatesAt(pairs.tokenIds(), pairs.layout(), pairs.ends());
        return head(hidden).reshape(pairs.layout().batch(), 2);
    }

    private NDArray head(NDArray hidden) {
        return hidden.getNDArrayInternal().linear(hidden, scoreWeight, scoreBias).singletonOrThrow();
    }

    /**
     * Scores token sequences without gradients, {@code batchSize} at a time, each batch in its own sub-manager.
     *
     * @throws IllegalArgumentException if a sequence is empty or longer than the context, or batchSize is not
     *     positive
     */
    public float[] score(List<int[]> sequences, int batchSize) {
        Gradients.inferenceOnly();
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive but was " + batchSize);
        }
        float[] out = new float[sequences.size()];
        for (int start = 0; start < sequences.size(); start += batchSize) {
            List<int[]> chunk = new ArrayList<>(sequences.subList(start, Math.min(sequences.size(),
                    start + batchSize)));
            try (NDManager step = weights().manager().newSubManager()) {
                TokenBatch batch = TokenBatch.rightPadded(chunk, step);
                float[] scores = scores(batch.tokenIds(), batch.attentionMask()).toFloatArray();
                System.arraycopy(scores, 0, out, start, scores.length);
            }
        }
        return out;
    }

    /** Closes the weights, trunk and head. */
    @Override
    public void close() {
        trunk.close();
    }
}
