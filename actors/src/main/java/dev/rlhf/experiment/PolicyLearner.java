package dev.rlhf.experiment;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.ppo.AdaptiveKlController;
import dev.rlhf.policy.ppo.Experience;
import dev.rlhf.policy.ppo.FixedKlController;
import dev.rlhf.policy.ppo.KlController;
import dev.rlhf.policy.ppo.PpoSettings;
import dev.rlhf.policy.ppo.PpoStats;
import dev.rlhf.policy.ppo.PpoUpdater;
import dev.rlhf.policy.ppo.RolloutScorer;
import dev.rlhf.policy.ppo.RolloutSequences;
import java.util.List;

/**
 * The PPO learner's state: the trainable policy with its value head, the frozen SFT reference, the optimiser and
 * KL controller (inside {@link PpoUpdater}), and the version of the weights it last published.
 */
public final class PolicyLearner implements AutoCloseable {
    private final GptModel policy;
    private final GptModel reference;
    private final RolloutScorer scorer;
    private final PpoUpdater updater;
    private final int padTokenId;
    private long version;

    /** What one update produced: its statistics and the new weights, published as {@code snapshot.version()}. */
    public record Update(PpoStats stats, WeightsSnapshot snapshot) {}

    /**
     * @param sft the SFT weights: copied into the trainable policy (plus a fresh value head) and the reference
     */
    public PolicyLearner(GptWeights sft, NDManager parent, PpoSettings settings) {
        this.policy = new GptModel(sft.copyWithValueHead(parent));
        this.reference = new GptModel(sft.copy(parent));
        this.scorer = new RolloutScorer(policy, reference, settings.forwardBatchSize());
        this.updater = new PpoUpdater(policy, settings, klController(settings.kl()));
        this.padTokenId = Math.max(0, sft.config().eosTokenId());
    }

    private static KlController klController(PpoSettings.KlSettings kl) {
        return switch (kl.control()) {
            case FIXED -> new FixedKlController(kl.initCoefficient());
            case ADAPTIVE -> new AdaptiveKlController(kl.initCoefficient(), kl.target(), kl.horizon());
        };
    }

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
        policy.close();
        reference.close();
    }
}
