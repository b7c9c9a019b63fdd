package dev.rlhf.actors;

import dev.rlhf.policy.align.GroupPolicyLearner;
import dev.rlhf.policy.align.GroupSettings;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.train.AdamW;
import java.util.List;
import java.util.Map;

/** GRPO or RLOO behind the learner role: {@link GroupPolicyLearner}, no value head and no KL controller. */
public final class GroupOnlineLearner implements OnlineLearner {
    private final GroupPolicyLearner learner;

    /** Takes ownership of {@code learner}. */
    public GroupOnlineLearner(GroupPolicyLearner learner) {
        this.learner = learner;
    }

    @Override
    public Algorithm algorithm() {
        return learner.settings().algorithm() == GroupSettings.Algorithm.GRPO ? Algorithm.GRPO : Algorithm.RLOO;
    }

    @Override
    public WeightsSnapshot initialSnapshot() {
        return learner.initialSnapshot();
    }

    @Override
    public Update learn(List<int[]> prompts, List<Completion> completions, float[] scores) {
        GroupPolicyLearner.Update update = learner.learn(prompts, completions, scores);
        return new Update(update.stats().klToReference(), update.stats().scalars(), update.snapshot());
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
        return learner.optimizer();
    }

    @Override
    public Map<String, Double> checkpointState() {
        return Map.of();
    }

    @Override
    public void close() {
        learner.close();
    }
}
