package dev.rlhf.actors;

import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.ppo.PolicyLearner;
import dev.rlhf.policy.ppo.PpoStats;
import dev.rlhf.policy.train.AdamW;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** PPO behind the learner role: {@link PolicyLearner}, its KL controller's β kept in checkpoints. */
public final class PpoOnlineLearner implements OnlineLearner {
    /** The {@code state.json} key of the KL controller's β. */
    public static final String KL_COEFFICIENT = "kl_coefficient";

    private final PolicyLearner learner;

    /** Takes ownership of {@code learner}. */
    public PpoOnlineLearner(PolicyLearner learner) {
        this.learner = learner;
    }

    @Override
    public Algorithm algorithm() {
        return Algorithm.PPO;
    }

    @Override
    public WeightsSnapshot initialSnapshot() {
        return learner.initialSnapshot();
    }

    @Override
    public Update learn(List<int[]> prompts, List<Completion> completions, float[] scores) {
        PolicyLearner.Update update = learner.learn(prompts, completions, scores);
        return new Update(update.stats().klToReference(), scalars(update.stats()), update.snapshot());
    }

    /** PPO's statistics under their metric names. */
    static Map<String, Double> scalars(PpoStats stats) {
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("kl/to_reference", stats.klToReference());
        scalars.put("kl/coefficient", stats.klCoefficient());
        scalars.put("ppo/policy_loss", stats.policyLoss());
        scalars.put("ppo/value_loss", stats.valueLoss());
        scalars.put("ppo/entropy", stats.entropy());
        scalars.put("ppo/clip_fraction", stats.clipFraction());
        scalars.put("ppo/approx_kl", stats.approxKl());
        scalars.put("ppo/grad_norm", stats.gradNorm());
        scalars.put("ppo/epochs", (double) stats.epochsRun());
        return scalars;
    }

    @Override
    public double[] klToReference(List<int[]> prompts, List<Completion> completions) {
        return learner.klToReference(prompts, completions);
    }

    @Override
    public long version() {
        return learner.version();
    }

    @Override
    public GptWeights weights() {
        return learner.policy().weights();
    }

    @Override
    public AdamW optimizer() {
        return learner.updater().optimizer();
    }

    @Override
    public Map<String, Double> checkpointState() {
        return Map.of(KL_COEFFICIENT, learner.updater().klController().coefficient());
    }

    @Override
    public void close() {
        learner.close();
    }
}
