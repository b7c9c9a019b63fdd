package dev.rlhf.actors;

import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.ComparisonSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Which prompts each phase of a run samples, with which seeds, and which of the completions go to the annotators
 * as comparison pairs: a pure function of the experiment seed and the iteration, so a resumed run draws exactly
 * what an uninterrupted one would.
 *
 * @param prompts the source of the prompts rolled out for training (drawn with a seed)
 * @param evaluationPrompts the source of the before/after evaluation's prompts
 * @param encoder turns a prompt into the token ids a request starts from
 * @param datasetComparisons pairs of responses from the SFT data set, judged with the policy's own pairs for the
 *     first reward model (they span the whole quality range, where two samples of one policy often differ little)
 */
public record ExperimentPlan(ExperimentSettings settings, PromptSource prompts, PromptSource evaluationPrompts,
        PromptEncoder encoder, List<Comparison> datasetComparisons) {

    /** Draws {@code count} prompts for a seed. */
    @FunctionalInterface
    public interface PromptSource {
        List<String> draw(int count, long seed);
    }

    /** Tokenises a prompt. */
    @FunctionalInterface
    public interface PromptEncoder {
        int[] encode(String prompt);
    }

    /** A batch of prompts with one request each, in the same order. */
    public record Batch(List<String> prompts, List<GenerationRequest> requests) {}

    /**
     * Comparisons sent for judgment together: the first reward model's ({@link #INITIAL}), or the fresh pairs of
     * one iteration.
     */
    public record ComparisonBatch(int iteration, List<Comparison> comparisons) {
        /** The iteration of the first reward model's comparisons, which precede iteration 0. */
        public static final int INITIAL = -1;

        public boolean initial() {
            return iteration == INITIAL;
        }

        /** The batch's id in the preference store (its task ids derive from it, so a resent batch is recognised). */
        public String storeId() {
            return initial() ? "initial" : "iter-" + iteration;
        }
    }

    /**
     * The rollout of iteration {@code iteration}: {@code prompts-per-iteration} requests. For PPO the first
     * {@link ExperimentSettings#pairs()} prompts are sampled a second time at the end of the batch (the pairs
     * sent for judgment in iterated RLHF; see {@link #iterationPairs}); for GRPO and RLOO each prompt is sampled
     * group-size times in a row, each with a seed of its own, and the pairs are disjoint pairs of a group's
     * completions, (0, 1), (2, 3), ..., group after group.
     */
    public Batch iteration(int iteration) {
        int pairs = settings.pairs();
        int group = settings.groupSize();
        long seed = settings.seed() * 1_000_003L + iteration;
        List<String> all = new ArrayList<>(settings.promptsPerIteration());
        if (group == 1) {
            List<String> distinct = prompts.draw(settings.promptsPerIteration() - pairs, seed);
            all.addAll(distinct);
            all.addAll(distinct.subList(0, pairs));
        } else {
            for (String prompt : prompts.draw(settings.promptsPerIteration() / group, seed)) {
                for (int i = 0; i < group; i++) {
                    all.add(prompt);
                }
            }
        }
        return batch(all, settings.seed() * 7919L + iteration * 100_003L);
    }

    /** The pairs of iteration {@code iteration}'s completions (of {@link #iteration}'s batch) to be judged. */
    public ComparisonBatch iterationPairs(int iteration, Batch batch, List<Completion> completions) {
        int pairs = settings.pairs();
        int group = settings.groupSize();
        List<Comparison> comparisons = new ArrayList<>(pairs);
        for (int i = 0; i < pairs; i++) {
            // a group of G holds G / 2 disjoint pairs of one prompt's completions: (0, 1), (2, 3), ...
            int first = group == 1 ? i : i / (group / 2) * group + 2 * (i % (group / 2));
            int second = group == 1 ? completions.size() - pairs + i : first + 1;
            comparisons.add(new Comparison(batch.prompts().get(first),
                    ComparisonSource.responseText(completions.get(first)),
                    ComparisonSource.responseText(completions.get(second))));
        }
        return new ComparisonBatch(iteration, comparisons);
    }

    /** The fixed evaluation prompts, sampled with the same seeds for every policy compared. */
    public Batch evaluation() {
        return batch(evaluationPrompts.draw(settings.evaluationPrompts(), settings.seed() + 424_242L), 99_991L);
    }

    /** Prompts for the first reward model's comparisons, each sampled twice (consecutive requests). */
    public Batch comparisons() {
        List<String> distinct = prompts.draw(settings.rewardComparisons(), settings.seed() + 31_337L);
        List<String> doubled = new ArrayList<>(2 * distinct.size());
        for (String p : distinct) {
            doubled.add(p);
            doubled.add(p);
        }
        return batch(doubled, settings.seed() + 271_828L);
    }

    /**
     * The first reward model's comparisons: the two samples of each prompt of {@link #comparisons}'s batch, then
     * the data set's pairs.
     */
    public ComparisonBatch initialComparisons(Batch batch, List<Completion> completions) {
        List<Comparison> comparisons = new ArrayList<>();
        for (int i = 0; i + 1 < completions.size(); i += 2) {
            comparisons.add(new Comparison(batch.prompts().get(i),
                    ComparisonSource.responseText(completions.get(i)),
                    ComparisonSource.responseText(completions.get(i + 1))));
        }
        comparisons.addAll(datasetComparisons);
        return new ComparisonBatch(ComparisonBatch.INITIAL, comparisons);
    }

    private Batch batch(List<String> prompts, long seedBase) {
        SamplingParams sampling = settings.sampling();
        List<GenerationRequest> requests = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(new GenerationRequest(encoder.encode(prompts.get(i)), sampling.withSeed(seedBase + i)));
        }
        return new Batch(List.copyOf(prompts), requests);
    }
}
