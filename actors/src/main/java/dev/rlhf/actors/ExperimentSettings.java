package dev.rlhf.actors;

import com.typesafe.config.Config;
import dev.rlhf.policy.generate.SamplingParams;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * One experiment, read from {@code rlhf.experiment} and {@code rlhf.annotators.mode} (see reference.conf for every
 * key and its default).
 *
 * @param policyCheckpoint the SFT policy to tune; empty for the embedded default
 * @param prompts the file of the task's prompts; empty for the embedded review task (the only one with a gold score)
 * @param evaluationHeldOutShare share of a prompt file's prompts kept for the before/after evaluation
 * @param rewardModel the reward model PPO starts from; empty to train v1 from the panel's initial judgments
 * @param annotators who judges each iteration's comparison pairs
 * @param humanAnnotationsPerTask people each iteration task waits for in the human and mixed modes
 * @param algorithm what updates the policy ({@code rlhf.algorithm})
 * @param groupSize completions per prompt in an iteration's rollout: 1 for PPO, the group size for GRPO and RLOO
 * @param budgetSeconds wall-clock seconds after which the run ends at the next iteration boundary as if its last
 *     iteration were done ({@code budget-seconds}); 0 for no budget
 */
public record ExperimentSettings(
        String policyCheckpoint,
        String prompts,
        double evaluationHeldOutShare,
        String rewardModel,
        Path runDir,
        long seed,
        int iterations,
        int promptsPerIteration,
        int rolloutWorkers,
        int intraOpThreads,
        int checkpointEvery,
        SamplingParams sampling,
        int evaluationPrompts,
        int rewardComparisons,
        int datasetComparisons,
        boolean iterated,
        int pairsPerIteration,
        int retrainAfter,
        int replay,
        AnnotatorsMode annotators,
        int humanAnnotationsPerTask,
        Algorithm algorithm,
        int groupSize,
        double budgetSeconds) {

    public ExperimentSettings {
        if (!(budgetSeconds >= 0)) {
            throw new IllegalArgumentException("rlhf.experiment.budget-seconds must not be negative but was "
                    + budgetSeconds);
        }
        requirePositive(iterations, "iterations");
        requirePositive(promptsPerIteration, "prompts-per-iteration");
        requirePositive(rolloutWorkers, "rollout-workers");
        requirePositive(intraOpThreads, "intra-op-threads");
        requirePositive(checkpointEvery, "checkpoint-every");
        requirePositive(evaluationPrompts, "evaluation.prompts");
        requirePositive(rewardComparisons, "reward.comparisons");
        if (replay < 0) {
            throw new IllegalArgumentException("iterated.replay must not be negative but was " + replay);
        }
        if (!(evaluationHeldOutShare > 0 && evaluationHeldOutShare < 1)) {
            throw new IllegalArgumentException("rlhf.experiment.evaluation.held-out-share must be in (0, 1) but was "
                    + evaluationHeldOutShare);
        }
        if (!prompts.isEmpty() && rewardModel.isEmpty()) {
            throw new IllegalArgumentException("rlhf.experiment.prompts needs rlhf.experiment.reward-model: a task"
                    + " without a gold score has no simulated annotators to judge the first reward model's"
                    + " comparisons (train one on your preference data with ./rlhf rm train)");
        }
        if (!prompts.isEmpty() && annotators.panel()) {
            throw new IllegalArgumentException("rlhf.annotators.mode = " + annotators.key() + " needs a task with a"
                    + " gold score for the simulated annotators, which only the embedded task has; with"
                    + " rlhf.experiment.prompts use none (the reward model stays fixed) or human");
        }
        if (annotators == AnnotatorsMode.NONE && rewardModel.isEmpty()) {
            throw new IllegalArgumentException("rlhf.annotators.mode = none needs rlhf.experiment.reward-model: the"
                    + " reward model the run keeps fixed");
        }
        if (annotators.people() && !iterated) {
            throw new IllegalArgumentException("rlhf.annotators.mode = " + annotators.key()
                    + " needs rlhf.experiment.iterated.enabled: without it no pairs go to people");
        }
        if (humanAnnotationsPerTask <= 0) {
            throw new IllegalArgumentException("rlhf.annotators.human-annotations-per-task must be positive but was "
                    + humanAnnotationsPerTask);
        }
        if (algorithm.offline() && !rewardModel.isEmpty()) {
            throw new IllegalArgumentException("rlhf.algorithm = " + algorithm.key() + " trains on the judged initial"
                    + " comparisons, which a run given rlhf.experiment.reward-model does not have: leave it empty");
        }
        if (groupSize < 1 || promptsPerIteration % groupSize != 0) {
            throw new IllegalArgumentException("rlhf.experiment.prompts-per-iteration (" + promptsPerIteration
                    + ") must be a multiple of " + algorithm.key() + "'s group size " + groupSize);
        }
        // PPO samples a pair's second completion at the end of the batch; GRPO and RLOO pair a group's completions
        int mostPairs = groupSize == 1 ? promptsPerIteration / 2 : promptsPerIteration / groupSize * (groupSize / 2);
        if (iterated && !algorithm.offline() && (pairsPerIteration <= 0 || pairsPerIteration > mostPairs)) {
            throw new IllegalArgumentException("iterated.pairs-per-iteration must be in 1.." + mostPairs
                    + " but was " + pairsPerIteration);
        }
    }

    /** An experiment without a wall-clock budget. */
    public ExperimentSettings(String policyCheckpoint, String prompts, double evaluationHeldOutShare,
            String rewardModel, Path runDir, long seed, int iterations, int promptsPerIteration, int rolloutWorkers,
            int intraOpThreads, int checkpointEvery, SamplingParams sampling, int evaluationPrompts,
            int rewardComparisons, int datasetComparisons, boolean iterated, int pairsPerIteration, int retrainAfter,
            int replay, AnnotatorsMode annotators, int humanAnnotationsPerTask, Algorithm algorithm, int groupSize) {
        this(policyCheckpoint, prompts, evaluationHeldOutShare, rewardModel, runDir, seed, iterations,
                promptsPerIteration, rolloutWorkers, intraOpThreads, checkpointEvery, sampling, evaluationPrompts,
                rewardComparisons, datasetComparisons, iterated, pairsPerIteration, retrainAfter, replay, annotators,
                humanAnnotationsPerTask, algorithm, groupSize, 0);
    }

    /** A PPO experiment on the embedded task whose annotators are all simulated. */
    public ExperimentSettings(String policyCheckpoint, Path runDir, long seed, int iterations, int promptsPerIteration,
            int rolloutWorkers, int intraOpThreads, int checkpointEvery, SamplingParams sampling,
            int evaluationPrompts, int rewardComparisons, int datasetComparisons, boolean iterated,
            int pairsPerIteration, int retrainAfter, int replay) {
        this(policyCheckpoint, "", 0.1, "", runDir, seed, iterations, promptsPerIteration, rolloutWorkers, intraOpThreads,
                checkpointEvery, sampling, evaluationPrompts, rewardComparisons, datasetComparisons, iterated,
                pairsPerIteration, retrainAfter, replay, AnnotatorsMode.SIMULATED, 1, Algorithm.PPO, 1);
    }

    public static ExperimentSettings from(Config config) {
        Algorithm algorithm = Algorithm.parse(config.getString("rlhf.algorithm"));
        Config c = config.getConfig("rlhf.experiment");
        Config s = c.getConfig("sampling");
        SamplingParams sampling = new SamplingParams((float) s.getDouble("temperature"), s.getInt("top-k"),
                (float) s.getDouble("top-p"), s.getInt("max-new-tokens"), 1f, Set.of(), List.of(), 0L);
        return new ExperimentSettings(
                c.getString("policy-checkpoint"),
                c.getString("prompts"),
                c.getDouble("evaluation.held-out-share"),
                c.getString("reward-model"),
                Path.of(c.getString("run-dir")),
                c.getLong("seed"),
                iterations(algorithm, config),
                c.getInt("prompts-per-iteration"),
                c.getInt("rollout-workers"),
                c.getInt("intra-op-threads"),
                c.getInt("checkpoint-every"),
                sampling,
                c.getInt("evaluation.prompts"),
                c.getInt("reward.comparisons"),
                c.getInt("reward.dataset-comparisons"),
                c.getBoolean("iterated.enabled"),
                c.getInt("iterated.pairs-per-iteration"),
                c.getInt("iterated.retrain-after"),
                c.getInt("iterated.replay"),
                AnnotatorsMode.parse(config.getString("rlhf.annotators.mode")),
                config.getInt("rlhf.annotators.human-annotations-per-task"),
                algorithm,
                OnlineLearners.groupSize(algorithm, config),
                c.getDouble("budget-seconds"));
    }

    /**
     * The run's iterations: {@code rlhf.experiment.iterations}, but for DPO and IPO at most their {@code epochs}. Each
     * of their iterations is one more epoch over the same judged comparisons, which overfits them: on the
     * quickstart a fourth epoch already lost gold reward (see rlhf.dpo.learning-rate in reference.conf).
     */
    private static int iterations(Algorithm algorithm, Config config) {
        int iterations = config.getInt("rlhf.experiment.iterations");
        return algorithm.offline()
                ? Math.min(iterations, OnlineLearners.preferenceSettings(algorithm, config).epochs())
                : iterations;
    }

    /**
     * Pairs per iteration sent for judgment (0 when iterated RLHF is off, nobody judges, or the algorithm is offline:
     * DPO and IPO train on the initial comparisons alone).
     */
    public int pairs() {
        return iterated && annotators != AnnotatorsMode.NONE && !algorithm.offline() ? pairsPerIteration : 0;
    }

    /** Whether the run starts from a given reward model rather than train v1 from initial comparisons. */
    public boolean givenRewardModel() {
        return !rewardModel.isEmpty();
    }

    /** Whether the task is the embedded review task (the only one with a gold score). */
    public boolean embeddedTask() {
        return prompts.isEmpty();
    }

    private static void requirePositive(int value, String key) {
        if (value <= 0) {
            throw new IllegalArgumentException("rlhf.experiment." + key + " must be positive but was " + value);
        }
    }
}
