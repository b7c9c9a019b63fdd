package dev.rlhf.policy.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.tokenizer.TextTokenizer;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

class ReviewCorpusTest {

    private final ReviewCorpus corpus = new ReviewCorpus();

    @Test
    void sameSeedGivesSameData() {
        assertEquals(
                corpus.pretrainingDocuments(200, 42L),
                new ReviewCorpus().pretrainingDocuments(200, 42L));
        assertEquals(corpus.sftPairs(200, 42L), corpus.sftPairs(200, 42L));
        assertEquals(corpus.prompts(200, 42L), corpus.prompts(200, 42L));
        assertEquals(
                corpus.bestResponse("Review of the hotel in Lisbon:", 9L),
                corpus.bestResponse("Review of the hotel in Lisbon:", 9L));
    }

    @Test
    void differentSeedsGiveDifferentData() {
        assertNotEquals(corpus.sftPairs(50, 1L), corpus.sftPairs(50, 2L));
        assertNotEquals(corpus.prompts(50, 1L), corpus.prompts(50, 2L));
    }

    @Test
    void rlPromptsNeverAppearInSftOrPretraining() {
        Set<String> sftPrompts = sftPrompts();
        List<String> documents = corpus.pretrainingDocuments(5_000, 2L);

        Set<String> rl = new HashSet<>(corpus.prompts(2_000, 3L));

        assertTrue(rl.size() > 200, "held-out prompts should be varied: " + rl.size());
        for (String prompt : rl) {
            assertTrue(!sftPrompts.contains(prompt), "held-out prompt in SFT: " + prompt);
            for (String document : documents) {
                assertTrue(!document.startsWith(prompt + " "), "held-out prompt in: " + document);
            }
        }
    }

    @Test
    void evaluationPromptsAreNeitherRlNorSftPrompts() {
        Set<String> sftPrompts = sftPrompts();
        Set<String> rl = new HashSet<>(corpus.prompts(5_000, 3L));

        Set<String> evaluation = new HashSet<>(corpus.evaluationPrompts(2_000, 4L));

        assertEquals(72, evaluation.size(), "every evaluation prompt is drawn from 2,000 draws");
        assertEquals(236, rl.size(), "every RL prompt is drawn from 5,000 draws");
        for (String prompt : evaluation) {
            assertTrue(!rl.contains(prompt), "evaluation prompt among the RL prompts: " + prompt);
            assertTrue(!sftPrompts.contains(prompt), "evaluation prompt in SFT: " + prompt);
        }
    }

    @Test
    void evaluationPromptsSpanEveryItemAndPlaceAsTheRlPromptsDo() {
        Set<String> evaluation = new HashSet<>(corpus.evaluationPrompts(2_000, 4L));

        Set<String> items = new HashSet<>();
        Set<String> places = new HashSet<>();
        for (String prompt : evaluation) {
            ReviewGrammar.ReviewPrompt known = ReviewGrammar.INSTANCE.prompt(prompt).orElseThrow();
            items.add(known.item());
            places.add(prompt.replaceAll(".* in ([A-Za-z]+)( like\\?|[:.])$", "$1"));
        }

        assertEquals(24, items.size(), "items: " + items);
        assertEquals(16, places.size(), "places: " + places);
    }

    @Test
    void documentsArePromptThenResponseEndingInEos() {
        for (PromptResponse pair : corpus.sftPairs(100, 8L)) {
            assertTrue(pair.response().startsWith(" "), pair.response());
            assertTrue(pair.response().endsWith(TextTokenizer.END_OF_TEXT), pair.response());
            assertEquals(
                    1,
                    pair.document().split(Pattern.quote(TextTokenizer.END_OF_TEXT), -1).length - 1);
        }
    }

    @Test
    void sftResponsesAreTwoOrThreeGrammarSentencesOnDistinctTopics() {
        for (PromptResponse pair : corpus.sftPairs(300, 5L)) {
            String text = pair.response().replace(TextTokenizer.END_OF_TEXT, "").strip();
            String[] sentences = text.split("(?<=\\.) ");
            Set<String> topics = new HashSet<>();

            assertTrue(sentences.length == 2 || sentences.length == 3, text);
            for (String sentence : sentences) {
                ReviewGrammar.ReviewSentence parsed =
                        ReviewGrammar.INSTANCE
                                .parse(sentence)
                                .orElseThrow(() -> new AssertionError("unparsed: " + sentence));
                assertTrue(topics.add(parsed.topic()), "repeated topic in: " + text);
            }
        }
    }

    @Test
    void bestResponseRejectsPromptsOutsideTheCorpus() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> corpus.bestResponse("Hello?", 1L));

        assertTrue(e.getMessage().contains("prompt"), e.getMessage());
    }

    @Test
    void rejectsNegativeCounts() {
        assertThrows(IllegalArgumentException.class, () -> corpus.sftPairs(-1, 1L));
        assertThrows(IllegalArgumentException.class, () -> corpus.prompts(-1, 1L));
        assertThrows(IllegalArgumentException.class, () -> corpus.evaluationPrompts(-1, 1L));
    }

    /** The prompts of 5,000 SFT pairs: every training prompt, many times over. */
    private Set<String> sftPrompts() {
        Set<String> prompts = new HashSet<>();
        corpus.sftPairs(5_000, 1L).forEach(p -> prompts.add(p.prompt()));
        return prompts;
    }
}
