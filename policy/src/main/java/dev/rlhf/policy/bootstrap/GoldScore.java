package dev.rlhf.policy.bootstrap;

import dev.rlhf.policy.tokenizer.TextTokenizer;

import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The hidden quality of a review: the mean valence of its sentences, normalised to [-1, 1].
 *
 * <p>It accepts any text (decoded model output, with or without the EOS token, possibly cut off)
 * and scores it as follows. Text from the first {@link TextTokenizer#END_OF_TEXT} on is ignored.
 * The rest is split after every full stop; each piece, stripped of surrounding whitespace, is one
 * sentence, and a trailing piece without a full stop is a truncated sentence. A sentence scores
 *
 * <ul>
 *   <li>its valence / 2 (from -1 for "terrible" to +1 for "wonderful") if it is a sentence of the
 *       review grammar, about a topic not already covered, and among the first three;
 *   <li>0 if it parses but is about another item type than the prompt's (a museum's exhibition in
 *       a hotel review): off-topic praise is worth nothing;
 *   <li>-1 otherwise: junk, a truncated sentence, a repeated topic, a fourth sentence or more.
 * </ul>
 *
 * A review has at least two sentences; missing ones score -1, so the empty text scores -1. The
 * best reachable score, 1, is exactly that of {@link ReviewCorpus#bestResponse}. A prompt outside
 * the corpus has no known item type; then no sentence counts as off-topic.
 */
public final class GoldScore {

    private static final int MIN_SENTENCES = 2;
    private static final int MAX_SENTENCES = 3;

    private final ReviewGrammar grammar = ReviewGrammar.INSTANCE;

    /**
     * Returns the gold score of {@code response} to {@code prompt}, in [-1, 1].
     *
     * @throws NullPointerException if an argument is null
     */
    public double score(String prompt, String response) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(response, "response");
        Optional<String> item = grammar.prompt(prompt.strip()).map(ReviewGrammar.ReviewPrompt::item);
        int eos = response.indexOf(TextTokenizer.END_OF_TEXT);
        String text = eos < 0 ? response : response.substring(0, eos);

        Set<String> topics = new HashSet<>();
        double total = 0;
        int sentences = 0;
        int start = 0;
        while (start < text.length()) {
            int stop = text.indexOf('.', start);
            String piece = stop < 0 ? text.substring(start) : text.substring(start, stop + 1);
            start = stop < 0 ? text.length() : stop + 1;
            String sentence = piece.strip();
            if (sentence.isEmpty()) {
                continue;
            }
            sentences++;
            total += sentenceScore(sentence, sentences, topics, item);
        }
        int missing = Math.max(0, MIN_SENTENCES - sentences);
        return (total - missing) / (sentences + missing);
    }

    private double sentenceScore(
            String sentence, int position, Set<String> topics, Optional<String> promptItem) {
        Optional<ReviewGrammar.ReviewSentence> parsed = grammar.parse(sentence);
        if (parsed.isEmpty() || position > MAX_SENTENCES || !topics.add(parsed.get().topic())) {
            return -1;
        }
        Optional<String> about = parsed.get().item();
        if (promptItem.isPresent() && about.isPresent() && !about.equals(promptItem)) {
            return 0;
        }
        return parsed.get().level() / (double) ReviewGrammar.MAX_LEVEL;
    }
}
