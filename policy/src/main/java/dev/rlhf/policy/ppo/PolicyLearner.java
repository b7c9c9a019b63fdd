package dev.rlhf.policy.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.train.Replicas;
import java.util.List;
import java.util.Map;

/**
 * The PPO learner's state: the trainable policy with its value head, the frozen SFT reference, the optimiser and
 * KL controller (inside {@link PpoUpdater}), and the version of the weights it last published.
 */
public final class PolicyLearner implements AutoCloseable {
    private final GptModel policy;
    private final Replicas<GptModel> replicas;
    private final GptModel reference;
    private final RolloutScorer scorer;
    private final PpoUpdater updater;
    private final int padTokenId;
    private long version;

    /** What one update produced: its statistics and the new weights, published as {@code snapshot.version()}. */
    public record Update(PpoStats stats, WeightsSnapshot snapshot) {}

    /**
     * A learner at the start of a run.
     *
     * @param sft the SFT weights: copied into the trainable policy (plus a fresh value head) and the reference
     * @param replicas data-parallel replicas of the policy the updates and scoring passes run on (1: the caller's
     *     thread alone)
     */
    public PolicyLearner(GptWeights sft, NDManager parent, PpoSettings settings, int replicas) {
        this(sft, sft.copyWithValueHead(parent), parent, settings, KlController.create(settings.kl()), 0, replicas);
    }

    private PolicyLearner(GptWeights sft, GptWeights trainable, NDManager parent, PpoSettings settings,
            KlController klController, long version, int replicas) {
        this.policy = new GptModel(trainable);
        this.replicas = Replicas.of(policy, GptModel::weights, GptModel::new, replicas);
        this.reference = new GptModel(sft.copy(parent));
        this.scorer = new RolloutScorer(this.replicas, reference, settings.forwardBatchSize());
        // one update per published version, so the version is also the count of updates made
        this.updater = new PpoUpdater(this.replicas, settings, klController, version);
        this.padTokenId = Math.max(0, sft.config().eosTokenId());
        this.version = version;
    }

    /**
     * A learner continuing from a checkpoint: the trained policy with its value head, the optimiser's moments and
     * steps, the KL controller's β and the weight version as they were saved.
     *
     * @param trained the checkpoint's policy weights, value head included; the learner takes ownership
     * @throws IllegalArgumentException if {@code trained} has no value head or the optimiser state does not fit
     */
    public static PolicyLearner resume(GptWeights sft, GptWeights trained, NDManager parent, PpoSettings settings,
            int replicas, Saved saved) {
        if (!trained.hasValueHead()) {
            trained.close();
            throw new IllegalArgumentException("a checkpoint to resume from must hold the value head");
        }
        PolicyLearner learner = new PolicyLearner(sft, trained, parent, settings,
                KlController.create(settings.kl(), saved.klCoefficient()), saved.version(), replicas);
        try {
            learner.updater.optimizer().restore(saved.optimizerState(), saved.optimizerSteps());
        } catch (RuntimeException e) {
            learner.close();
            throw e;
        }
        return learner;
    }

    /** The learner's state a checkpoint keeps besides the weights. */
    public record Saved(long version, double klCoefficient, int optimizerSteps, Map<String, NDArray> optimizerState) {}

    /** The weights rollout workers start from (version 0, before any update). */
    public WeightsSnapshot initialSnapshot() {
        return WeightsSnapshot.of(policy.weights(), version);
    }

    /**
     * One PPO update on a scored rollout batch.
     *
     * @param prompts the prompt token ids, one per completion
     * @param scores the (normalised) reward-model score of each completion
     */
    public Update learn(List<int[]> prompts, List<Completion> completions, float[] scores) {
        List<int[]> responses = completions.stream().map(Completion::tokenIds).toList();
        RolloutSequences sequences = RolloutSequences.pack(prompts, responses, padTokenId);
        Experience experience = scorer.score(sequences, scores);
        PpoStats stats = updater.update(experience);
        version++;
        return new Update(stats, WeightsSnapshot.of(policy.weights(), version));
    }

    /**
     * Each completion's KL to the reference, the summed {@code log π - log π_ref} over its tokens under the current
     * policy: over samples of the current policy its mean estimates KL(π || π_ref).
     *
     * @param prompts the prompt token ids, one per completion
     */
    public double[] klToReference(List<int[]> prompts, List<Completion> completions) {
        List<int[]> responses = completions.stream().map(Completion::tokenIds).toList();
        return scorer.klToReference(RolloutSequences.pack(prompts, responses, padTokenId));
    }

    public GptModel policy() {
        return policy;
    }

    public PpoUpdater updater() {
        return updater;
    }

    public long version() {
        return version;
    }

    @Override
    public void close() {
        updater.close();
        replicas.close();
        policy.close();
        reference.close();
    }
}
