package dev.rlhf.policy.bootstrap;

import dev.rlhf.policy.tokenizer.TextTokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

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
 *       review grammar, among the first three, on a topic no other sentence covers;
 *   <li>0 if it parses but is about another item type than the prompt's (a museum's exhibition in a
 *       hotel review): off-topic praise is worth nothing;
 *   <li>-1 otherwise: junk, a truncated sentence, a fourth sentence or more, and every sentence on
 *       a topic covered twice (so a response that loops on one sentence scores -1).
 * </ul>
 *
 * A review has at least two sentences; missing ones score -1, so the empty text scores -1. The best
 * reachable score, 1, is exactly that of {@link ReviewCorpus#bestResponse}. A prompt outside the
 * corpus has no known item type; then no sentence counts as off-topic.
 */
public final class GoldScore {

    private final ReviewGrammar grammar = ReviewGrammar.INSTANCE;

    /**
     * Returns the gold score of {@code response} to {@code prompt}, in [-1, 1].
     *
     * @throws NullPointerException if an argument is null
     */
    public double score(String prompt, String response) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(response, "response");
        Optional<String> item =
                grammar.prompt(prompt.strip()).map(ReviewGrammar.ReviewPrompt::item);
        int eos = response.indexOf(TextTokenizer.END_OF_TEXT);
        String text = eos < 0 ? response : response.substring(0, eos);

        List<Optional<ReviewGrammar.ReviewSentence>> parsed =
                splitSentences(text).stream().map(grammar::parse).toList();
        Map<String, Long> topicCounts =
                parsed.stream()
                        .flatMap(Optional::stream)
                        .collect(
                                Collectors.groupingBy(
                                        ReviewGrammar.ReviewSentence::topic,
                                        Collectors.counting()));
        double total = 0;
        for (int i = 0; i < parsed.size(); i++) {
            total += sentenceScore(parsed.get(i), i, topicCounts, item);
        }
        int missing = Math.max(0, ReviewGrammar.MIN_SENTENCES - parsed.size());
        return (total - missing) / (parsed.size() + missing);
    }

    /** Splits after every full stop, keeping a trailing piece without one (a cut-off sentence). */
    private static List<String> splitSentences(String text) {
        List<String> sentences = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int stop = text.indexOf('.', start);
            int end = stop < 0 ? text.length() : stop + 1;
            String piece = text.substring(start, end);
            if (!piece.isBlank()) {
                sentences.add(piece.strip());
            }
            start = end;
        }
        return sentences;
    }

    private static double sentenceScore(
            Optional<ReviewGrammar.ReviewSentence> parsed,
            int index,
            Map<String, Long> topicCounts,
            Optional<String> promptItem) {
        if (parsed.isEmpty()
                || index >= ReviewGrammar.MAX_SENTENCES
                || topicCounts.get(parsed.get().topic()) > 1) {
            return -1;
        }
        Optional<String> about = parsed.get().item();
        if (promptItem.isPresent() && about.isPresent() && !about.equals(promptItem)) {
            return 0;
        }
        return parsed.get().level() / (double) ReviewGrammar.MAX_LEVEL;
    }
}
