package dev.rlhf.actors;

import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.train.AdamW;
import java.util.List;
import java.util.Map;

/**
 * What the learner role drives, whichever {@link Algorithm} updates the policy: one update per scored rollout
 * batch, each published as a new weight version.
 */
public interface OnlineLearner extends AutoCloseable {

    /**
     * What one update produced.
     *
     * @param klToReference the batch's mean KL to the reference (nats per response), which every algorithm is
     *     held to the same budget by
     * @param scalars the algorithm's own statistics under their metric names, in the order they are reported
     */
    record Update(double klToReference, Map<String, Double> scalars, WeightsSnapshot snapshot) {}

    /** The algorithm, as {@code state.json} of a checkpoint records it. */
    Algorithm algorithm();

    /** The weights rollout workers start from (version 0, before any update). */
    WeightsSnapshot initialSnapshot();

    /**
     * One update on a scored rollout batch.
     *
     * @param prompts the prompt token ids, one per completion
     * @param scores the (normalised) reward-model score of each completion
     */
    Update learn(List<int[]> prompts, List<Completion> completions, float[] scores);

    /** Each completion's summed {@code log π - log π_ref} under the current policy. */
    double[] klToReference(List<int[]> prompts, List<Completion> completions);

    /** The published weight version, which is also the count of updates made. */
    long version();

    /** The trainable weights a checkpoint saves (with a value head where the algorithm has one). */
    GptWeights weights();

    AdamW optimizer();

    /** What a checkpoint keeps besides weights, optimiser and version, under its {@code state.json} keys. */
    Map<String, Double> checkpointState();

    @Override
    void close();
}
