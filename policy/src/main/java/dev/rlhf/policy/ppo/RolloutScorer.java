package dev.rlhf.policy.ppo;

import dev.rlhf.policy.train.Gradients;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.train.Replicas;

/**
 * Turns a rollout batch into {@link Experience}: log π_old, its entropy and values from the policy that is about to
 * be updated, log π_ref from the frozen reference, in forward passes of at most {@code forwardBatchSize} sequences,
 * each in a sub-manager that is closed before the next. {@link #logprobs} gives the two log-probs alone, for
 * learners without a value head (GRPO, RLOO). With several policy replicas the passes run on all of them at once,
 * chunk {@code c} on replica {@code c % replicas}; every chunk is computed alone, so the results do not depend on
 * the number of replicas. They share the frozen reference, which nothing writes.
 */
public final class RolloutScorer {
    private final Replicas<GptModel> policy;
    private final GptModel reference;
    private final int forwardBatchSize;

    /**
     * @param policy the trainable policy; {@link #score} needs a value head, {@link #logprobs} and
     *     {@link #klToReference} do not
     * @param reference the frozen reference (the SFT model)
     * @param forwardBatchSize sequences per forward pass
     * @throws IllegalArgumentException if the vocabularies differ, or {@code forwardBatchSize} is not positive
     */
    public RolloutScorer(GptModel policy, GptModel reference, int forwardBatchSize) {
        this(Replicas.of(policy, GptModel::weights, GptModel::new, 1), reference, forwardBatchSize);
    }

    /**
     * A scorer whose forward passes run on every replica of the policy; the caller keeps the replicas.
     *
     * @throws IllegalArgumentException if the vocabularies differ, or {@code forwardBatchSize} is not positive
     */
    public RolloutScorer(Replicas<GptModel> policy, GptModel reference, int forwardBatchSize) {
        if (policy.master().config().vocabSize() != reference.config().vocabSize()) {
            throw new IllegalArgumentException("policy and reference vocabularies differ: "
                    + policy.master().config().vocabSize() + " vs " + reference.config().vocabSize());
        }
        if (forwardBatchSize <= 0) {
            throw new IllegalArgumentException("forwardBatchSize must be positive but was " + forwardBatchSize);
        }
        this.policy = policy;
        this.reference = reference;
        this.forwardBatchSize = forwardBatchSize;
    }

    /**
     * Scores a batch.
     *
     * @param scores one reward-model score per sequence
     * @throws IllegalArgumentException if the policy has no value head, or {@code scores} does not hold one entry
     *     per sequence
     */
    public Experience score(RolloutSequences sequences, float[] scores) {
        if (!policy.master().weights().hasValueHead()) {
            throw new IllegalArgumentException("policy must have a value head");
        }
        int tokens = sequences.batch() * sequences.responseLength();
        float[] logprobs = new float[tokens];
        float[] refLogprobs = new float[tokens];
        float[] values = new float[tokens];
        float[] entropy = new float[tokens];
        forEachChunk(sequences, true, (own, ref, offset, count) -> {
            System.arraycopy(own.logprobs().toFloatArray(), 0, logprobs, offset, count);
            System.arraycopy(ref.logprobs().toFloatArray(), 0, refLogprobs, offset, count);
            System.arraycopy(own.values().toFloatArray(), 0, values, offset, count);
            System.arraycopy(ResponseForward.entropy(own.logSoftmax()).toFloatArray(), 0, entropy, offset, count);
        });
        float[] mask = sequences.responseMask();
        for (int i = 0; i < mask.length; i++) {
            logprobs[i] *= mask[i];
            refLogprobs[i] *= mask[i];
            values[i] *= mask[i];
            entropy[i] *= mask[i];
        }
        return new Experience(sequences, logprobs, refLogprobs, values, entropy, scores.clone());
    }

    /**
     * Each sequence's summed {@code log π - log π_ref} over its response tokens under the policy as it is now: over
     * samples of the policy its mean estimates KL(π || π_ref). Computes the log-probs only, not values or entropy.
     */
    public double[] klToReference(RolloutSequences sequences) {
        TokenLogprobs both = logprobs(sequences);
        return TokenRewards.klPerSequence(
                both.logprobs(), both.refLogprobs(), sequences.responseMask(), sequences.batch());
    }

    /**
     * Per-token log-probs of the response tokens, {@code [batch, responseLength]} row-major in the layout of
     * {@link RolloutSequences}, without gradients.
     *
     * @param logprobs log π under the policy as it is now
     * @param refLogprobs log π_ref under the frozen reference
     */
    public record TokenLogprobs(float[] logprobs, float[] refLogprobs) {}

    /**
     * The policy's and the reference's log-probs of every response token (padding entries as the forward pass left
     * them: select them away with the response mask). Computes neither values nor entropy.
     */
    public TokenLogprobs logprobs(RolloutSequences sequences) {
        int tokens = sequences.batch() * sequences.responseLength();
        float[] logprobs = new float[tokens];
        float[] refLogprobs = new float[tokens];
        forEachChunk(sequences, false, (own, ref, offset, count) -> {
            System.arraycopy(own.logprobs().toFloatArray(), 0, logprobs, offset, count);
            System.arraycopy(ref.logprobs().toFloatArray(), 0, refLogprobs, offset, count);
        });
        return new TokenLogprobs(logprobs, refLogprobs);
    }

    /** Reads what one chunk's forward passes give; {@code count} response tokens from {@code offset}. */
    private interface ChunkReader {
        void read(ResponseForward own, ResponseForward ref, int offset, int count);
    }

    /**
     * The policy and reference forward passes, chunk by chunk on the replicas, each chunk in a sub-manager closed
     * after it; {@code reader} is called on the replica's thread, for disjoint ranges.
     */
    private void forEachChunk(RolloutSequences sequences, boolean withValues, ChunkReader reader) {
        Gradients.inferenceOnly();
        int batch = sequences.batch();
        int responseLength = sequences.responseLength();
        int length = sequences.length();
        int chunks = (batch + forwardBatchSize - 1) / forwardBatchSize;
        policy.map(chunks, (c, replica) -> {
            int start = c * forwardBatchSize;
            int rows = Math.min(forwardBatchSize, batch - start);
            try (NDManager chunk = replica.weights().manager().newSubManager()) {
                Shape shape = new Shape(rows, length);
                NDArray ids = chunk.create(slice(sequences.tokenIds(), start, rows, length), shape);
                NDArray attention = chunk.create(slice(sequences.attentionMask(), start, rows, length), shape);
                ResponseForward own =
                        ResponseForward.run(replica, ids, attention, sequences.promptLength(), withValues);
                ResponseForward ref = ResponseForward.run(reference, ids, attention, sequences.promptLength(), false);
                reader.read(own, ref, start * responseLength, rows * responseLength);
            }
            return c;
        });
    }

    private static long[] slice(long[] rowMajor, int startRow, int rows, int length) {
        long[] out = new long[rows * length];
        System.arraycopy(rowMajor, startRow * length, out, 0, rows * length);
        return out;
    }
}
