package dev.rlhf.cluster;

import dev.rlhf.actors.LearnerActor;
import dev.rlhf.actors.PublishedWeights;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.proto.v1.LearnRequest;
import dev.rlhf.proto.v1.LearnResponse;
import dev.rlhf.proto.v1.MeasureKlRequest;
import dev.rlhf.proto.v1.MeasureKlResponse;
import dev.rlhf.proto.v1.PromptTokens;
import dev.rlhf.proto.v1.RolloutCompletion;
import dev.rlhf.proto.v1.SaveCheckpointRequest;
import dev.rlhf.proto.v1.Scalar;
import dev.rlhf.proto.v1.UsePreferencesRequest;
import dev.rlhf.rewardmodel.JudgedComparison;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LearnerService messages from and to the learner's own types: the coordinator's requests as they go out and its
 * answers as they come back, checked; the node's requests as they come in, checked ({@code INVALID_ARGUMENT}
 * naming the field).
 */
final class LearnerMessages {
    private LearnerMessages() {}

    /** A checked batch of prompts and their completions. */
    record Batch(List<int[]> prompts, List<Completion> completions) {}

    // --- the coordinator's side ---------------------------------------------------------------------------------

    static LearnRequest learn(String run, LearnerActor.Learn learn) {
        LearnRequest.Builder builder = LearnRequest.newBuilder().setRun(run).setIteration(learn.iteration());
        learn.prompts().forEach(prompt -> builder.addPrompts(prompt(prompt)));
        learn.completions().forEach(completion -> builder.addCompletions(RolloutMessages.completion(completion)));
        for (float score : learn.scores()) {
            builder.addScores(score);
        }
        return builder.build();
    }

    static MeasureKlRequest measureKl(String run, LearnerActor.MeasureKl measure) {
        MeasureKlRequest.Builder builder = MeasureKlRequest.newBuilder().setRun(run);
        measure.prompts().forEach(prompt -> builder.addPrompts(prompt(prompt)));
        measure.completions().forEach(completion -> builder.addCompletions(RolloutMessages.completion(completion)));
        return builder.build();
    }

    static UsePreferencesRequest usePreferences(String run, List<JudgedComparison> judged) {
        UsePreferencesRequest.Builder builder = UsePreferencesRequest.newBuilder().setRun(run);
        judged.forEach(comparison -> builder.addComparisons(CollectorMessages.judged(comparison)));
        return builder.build();
    }

    static SaveCheckpointRequest saveCheckpoint(String run, RunCheckpoint.State state) {
        return SaveCheckpointRequest.newBuilder().setRun(run).setIteration(state.iteration())
                .setPreferenceSequence(state.preferenceSequence()).setRewardModelVersion(state.rewardModelVersion())
                .setJudgedForTraining(state.judgedForTraining()).setRetrainingDue(state.retrainingDue()).build();
    }

    /**
     * The node's answer to a Learn, checked: the iteration echoed, the next weight version, finite statistics.
     *
     * @throws IllegalArgumentException naming the field that is wrong
     */
    static LearnerActor.Learned learned(LearnResponse response, int iteration, long previousVersion) {
        if (response.getIteration() != iteration) {
            throw new IllegalArgumentException("iteration is " + response.getIteration() + ", not the requested "
                    + iteration);
        }
        if (response.getWeightVersion() != previousVersion + 1) {
            throw new IllegalArgumentException("weight_version is " + response.getWeightVersion() + ", not "
                    + (previousVersion + 1) + " (one update after v" + previousVersion + ")");
        }
        requireFinite(response.getKlToReference(), "kl_to_reference");
        if (!(response.getSeconds() >= 0) || Double.isInfinite(response.getSeconds())) {
            throw new IllegalArgumentException("seconds must be a finite number >= 0 but was "
                    + response.getSeconds());
        }
        Map<String, Double> scalars = new LinkedHashMap<>();
        for (Scalar scalar : response.getScalarsList()) {
            if (scalar.getName().isEmpty() || scalars.put(scalar.getName(), scalar.getValue()) != null) {
                throw new IllegalArgumentException("scalars names \"" + scalar.getName() + "\": each must be a "
                        + "name of its own");
            }
        }
        return new LearnerActor.Learned(iteration, response.getKlToReference(), scalars,
                new PublishedWeights.OnLearnerNode(response.getWeightVersion()), response.getSeconds());
    }

    /**
     * The node's answer to a MeasureKl: one KL per completion.
     *
     * @throws IllegalArgumentException if the count is wrong
     */
    static LearnerActor.KlMeasured klMeasured(MeasureKlResponse response, int completions) {
        if (response.getKlCount() != completions) {
            throw new IllegalArgumentException("kl holds " + response.getKlCount() + " values for " + completions
                    + " completions");
        }
        return new LearnerActor.KlMeasured(response.getKlList().stream().mapToDouble(Double::doubleValue).toArray());
    }

    // --- the node's side ----------------------------------------------------------------------------------------

    /**
     * Prompts and completions checked: as many of each, every prompt 1+ token ids of the vocabulary, every
     * completion as a rollout worker's answer is checked, and prompt and completion together within the context.
     *
     * @throws StatusRuntimeException INVALID_ARGUMENT naming the field
     */
    static Batch batch(List<PromptTokens> prompts, List<RolloutCompletion> completions, int vocabSize,
            int contextLength) {
        if (completions.isEmpty() || prompts.size() != completions.size()) {
            throw invalid("prompts and completions must hold one prompt per completion, at least one, but hold "
                    + prompts.size() + " and " + completions.size());
        }
        List<int[]> promptIds = new ArrayList<>(prompts.size());
        List<Completion> checked = new ArrayList<>(completions.size());
        for (int i = 0; i < prompts.size(); i++) {
            int[] ids = tokens(prompts.get(i), "prompts[" + i + "].token_ids", vocabSize);
            try {
                checked.add(RolloutMessages.completion(completions.get(i), "completions[" + i + "]",
                        contextLength - ids.length, vocabSize));
            } catch (IllegalArgumentException e) {
                throw invalid(e.getMessage() + " (max_new_tokens here is the context length " + contextLength
                        + " less the prompt's " + ids.length + " tokens)");
            }
            promptIds.add(ids);
        }
        return new Batch(promptIds, checked);
    }

    /** One finite score per completion. */
    static float[] scores(LearnRequest request) {
        if (request.getScoresCount() != request.getCompletionsCount()) {
            throw invalid("scores holds " + request.getScoresCount() + " values for " + request.getCompletionsCount()
                    + " completions");
        }
        float[] scores = new float[request.getScoresCount()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = request.getScores(i);
            if (!Float.isFinite(scores[i])) {
                throw invalid("scores[" + i + "] must be finite but was " + scores[i]);
            }
        }
        return scores;
    }

    static RunCheckpoint.State state(SaveCheckpointRequest request) {
        if (request.getIteration() < 0) {
            throw invalid("iteration must be >= 0 but was " + request.getIteration());
        }
        if (request.getRewardModelVersion() < 0) {
            throw invalid("reward_model_version must be >= 0 but was " + request.getRewardModelVersion());
        }
        return new RunCheckpoint.State(request.getIteration(), request.getPreferenceSequence(),
                request.getRewardModelVersion(), request.getJudgedForTraining(), request.getRetrainingDue());
    }

    /** The judged comparisons, checked to come in sequence order. */
    static List<JudgedComparison> judged(UsePreferencesRequest request) {
        List<JudgedComparison> judged = new ArrayList<>(request.getComparisonsCount());
        long previous = 0;
        for (int i = 0; i < request.getComparisonsCount(); i++) {
            try {
                JudgedComparison comparison = CollectorMessages.judged(request.getComparisons(i), previous,
                        Long.MAX_VALUE, "comparisons[" + i + "]");
                judged.add(comparison);
                previous = comparison.sequence();
            } catch (IllegalArgumentException e) {
                throw invalid(e.getMessage());
            }
        }
        return judged;
    }

    static List<Scalar> scalars(Map<String, Double> scalars) {
        return scalars.entrySet().stream()
                .map(entry -> Scalar.newBuilder().setName(entry.getKey()).setValue(entry.getValue()).build())
                .toList();
    }

    static StatusRuntimeException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
    }

    private static PromptTokens prompt(int[] ids) {
        return PromptTokens.newBuilder().addAllTokenIds(RolloutMessages.boxed(ids)).build();
    }

    private static int[] tokens(PromptTokens prompt, String field, int vocabSize) {
        if (prompt.getTokenIdsCount() == 0) {
            throw invalid(field + " is empty: a prompt has at least one token");
        }
        int[] ids = new int[prompt.getTokenIdsCount()];
        for (int j = 0; j < ids.length; j++) {
            ids[j] = prompt.getTokenIds(j);
            if (ids[j] < 0 || ids[j] >= vocabSize) {
                throw invalid(field + "[" + j + "] = " + ids[j] + " is not in the vocabulary [0, " + vocabSize + ")");
            }
        }
        return ids;
    }

    private static void requireFinite(double value, String field) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(field + " must be finite but was " + value);
        }
    }
}
