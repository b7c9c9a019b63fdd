package dev.rlhf.actors;

import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.rewardmodel.Comparison;
import java.util.ArrayList;
import java.util.List;

/**
 * Which prompts each phase of a run samples, with which seeds: a pure function of the experiment seed and the
 * iteration, so a resumed run draws exactly what an uninterrupted one would.
 *
 * @param prompts the prompt source (held-out prompts of the task, drawn with a seed)
 * @param datasetComparisons pairs of responses from the SFT data set, judged with the policy's own pairs for the
 *     first reward model (they span the whole quality range, where two samples of one policy often differ little)
 */
public record ExperimentPlan(ExperimentSettings settings, PromptSource prompts, TextTokenizer tokenizer,
        List<Comparison> datasetComparisons) {

    /** Draws {@code count} prompts for a seed. */
    @FunctionalInterface
    public interface PromptSource {
        List<String> draw(int count, long seed);
    }

    /** A batch of prompts with one request each. */
    public record Batch(List<String> prompts, List<GenerationRequest> requests) {}

    /**
     * The rollout of iteration {@code iteration}: {@code prompts-per-iteration} requests, of which the first
     * {@code pairs} prompts are sampled twice (the pairs sent for judgment in iterated RLHF).
     */
    public Batch iteration(int iteration, int pairs) {
        int total = settings.promptsPerIteration();
        List<String> distinct = prompts.draw(total - pairs, settings.seed() * 1_000_003L + iteration);
        List<String> all = new ArrayList<>(distinct);
        all.addAll(distinct.subList(0, pairs));
        return batch(all, settings.seed() * 7919L + iteration * 100_003L);
    }

    /** The fixed evaluation prompts, sampled with the same seeds for every policy compared. */
    public Batch evaluation() {
        return batch(prompts.draw(settings.evaluationPrompts(), settings.seed() + 424_242L), 99_991L);
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

    private Batch batch(List<String> prompts, long seedBase) {
        SamplingParams sampling = settings.sampling();
        List<GenerationRequest> requests = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(new GenerationRequest(tokenizer.encode(prompts.get(i)), sampling.withSeed(seedBase + i)));
        }
        return new Batch(List.copyOf(prompts), requests);
    }
}
