package dev.rlhf.policy.bootstrap;

import dev.rlhf.policy.tokenizer.TextTokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The synthetic task of the embedded default: write a short review of an item ("Review of the hotel
 * in Lisbon:"). A response is 2 or 3 sentences on distinct topics of the item, each with a graded
 * valence, followed by {@link TextTokenizer#END_OF_TEXT}; {@link GoldScore} is the hidden
 * preference for positive reviews.
 *
 * <p>Pretraining and SFT data draw every sentence's valence uniformly from the whole range, so a
 * model learns the language without learning the preference (the mean gold score of SFT responses
 * is about 0). They use only the training prompts; {@link #prompts} (RL) and {@link
 * #evaluationPrompts} draw from two disjoint parts of a held-out set, so a tuned policy is
 * evaluated on prompts it was neither fine-tuned nor reinforced on. Every method is a pure function
 * of its arguments: the same seed gives the same output.
 */
public final class ReviewCorpus {

    /** A quarter of each item's held-out prompts (72 of 308) are evaluation prompts, chosen once with this seed. */
    private static final long EVALUATION_SPLIT_SEED = 20_261_204L;

    private final ReviewGrammar grammar = ReviewGrammar.INSTANCE;
    private final List<ReviewGrammar.ReviewPrompt> trainingPrompts;
    private final List<ReviewGrammar.ReviewPrompt> rlPrompts = new ArrayList<>();
    private final List<ReviewGrammar.ReviewPrompt> evaluationPrompts = new ArrayList<>();

    public ReviewCorpus() {
        trainingPrompts = grammar.prompts().stream().filter(p -> !p.heldOut()).toList();
        List<ReviewGrammar.ReviewPrompt> heldOut =
                grammar.prompts().stream().filter(ReviewGrammar.ReviewPrompt::heldOut).toList();
        // per item, a seeded shuffle rather than a stride: a stride through the enumeration (template, item,
        // place) would give the evaluation a few places of its own, a shift the rollouts never see
        Random random = new Random(EVALUATION_SPLIT_SEED);
        Set<ReviewGrammar.ReviewPrompt> evaluation = new HashSet<>();
        Map<String, List<ReviewGrammar.ReviewPrompt>> byItem = new LinkedHashMap<>();
        heldOut.forEach(p -> byItem.computeIfAbsent(p.item(), item -> new ArrayList<>()).add(p));
        for (List<ReviewGrammar.ReviewPrompt> prompts : byItem.values()) {
            Collections.shuffle(prompts, random);
            evaluation.addAll(prompts.subList(0, prompts.size() / 4));
        }
        for (ReviewGrammar.ReviewPrompt prompt : heldOut) {
            (evaluation.contains(prompt) ? evaluationPrompts : rlPrompts).add(prompt);
        }
    }

    /**
     * Returns {@code count} pretraining documents, each a prompt and its response ending in the EOS
     * token, so that joining them gives an EOS-separated text stream. These are the documents of
     * {@code sftPairs(count, seed)}: give pretraining and SFT different seeds.
     *
     * @throws IllegalArgumentException if {@code count} is negative
     */
    public List<String> pretrainingDocuments(int count, long seed) {
        return sftPairs(count, seed).stream().map(PromptResponse::document).toList();
    }

    /**
     * Returns {@code count} (prompt, response) pairs with uniformly drawn valences.
     *
     * @throws IllegalArgumentException if {@code count} is negative
     */
    public List<PromptResponse> sftPairs(int count, long seed) {
        requireCount(count);
        SplittableRandom random = new SplittableRandom(seed);
        List<PromptResponse> pairs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ReviewGrammar.ReviewPrompt prompt =
                    trainingPrompts.get(random.nextInt(trainingPrompts.size()));
            pairs.add(new PromptResponse(prompt.text(), response(prompt, random, false)));
        }
        return pairs;
    }

    /**
     * Returns {@code count} held-out prompts for RL, drawn with replacement; none of them ever
     * appears in {@link #pretrainingDocuments}, {@link #sftPairs} or {@link #evaluationPrompts}.
     *
     * @throws IllegalArgumentException if {@code count} is negative
     */
    public List<String> prompts(int count, long seed) {
        return draw(rlPrompts, count, seed);
    }

    /**
     * Returns {@code count} held-out prompts for evaluating a policy, drawn with replacement; none
     * of them ever appears in {@link #pretrainingDocuments}, {@link #sftPairs} or {@link #prompts}.
     *
     * @throws IllegalArgumentException if {@code count} is negative
     */
    public List<String> evaluationPrompts(int count, long seed) {
        return draw(evaluationPrompts, count, seed);
    }

    private static List<String> draw(
            List<ReviewGrammar.ReviewPrompt> pool, int count, long seed) {
        requireCount(count);
        SplittableRandom random = new SplittableRandom(seed);
        List<String> prompts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            prompts.add(pool.get(random.nextInt(pool.size())).text());
        }
        return prompts;
    }

    /**
     * Returns a response to {@code prompt} with the highest gold score: every sentence at the top
     * valence, ending in the EOS token.
     *
     * @throws IllegalArgumentException if {@code prompt} is not a prompt of this corpus
     */
    public String bestResponse(String prompt, long seed) {
        Objects.requireNonNull(prompt, "prompt");
        ReviewGrammar.ReviewPrompt known =
                grammar.prompt(prompt)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "prompt must be one of the corpus prompts but was: "
                                                        + prompt));
        return response(known, new SplittableRandom(seed), true);
    }

    private String response(
            ReviewGrammar.ReviewPrompt prompt, SplittableRandom random, boolean best) {
        List<String> topics = new ArrayList<>(grammar.topics(prompt.item()));
        int sentences =
                ReviewGrammar.MIN_SENTENCES
                        + random.nextInt(
                                ReviewGrammar.MAX_SENTENCES - ReviewGrammar.MIN_SENTENCES + 1);
        StringBuilder response = new StringBuilder();
        for (int s = 0; s < sentences; s++) {
            String topic = topics.remove(random.nextInt(topics.size()));
            int level =
                    best
                            ? ReviewGrammar.MAX_LEVEL
                            : random.nextInt(ReviewGrammar.MIN_LEVEL, ReviewGrammar.MAX_LEVEL + 1);
            response.append(' ').append(grammar.sentence(prompt.item(), topic, level, random));
        }
        return response.append(TextTokenizer.END_OF_TEXT).toString();
    }

    private static void requireCount(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative but was: " + count);
        }
    }
}
