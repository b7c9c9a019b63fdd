package dev.rlhf.policy.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.tokenizer.TextTokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;

class GoldScoreTest {

    private static final String PROMPT = "Review of the hotel in Lisbon:";
    private static final String EOS = TextTokenizer.END_OF_TEXT;

    private final GoldScore gold = new GoldScore();
    private final ReviewCorpus corpus = new ReviewCorpus();

    @Test
    void bestResponsesScoreOne() {
        for (String prompt : corpus.prompts(200, 3L)) {
            String best = corpus.bestResponse(prompt, prompt.hashCode());

            assertTrue(gold.score(prompt, best) >= 0.95, best);
        }
    }

    @Test
    void sftResponsesAverageNearZero() {
        double sum = 0;
        List<PromptResponse> pairs = corpus.sftPairs(1_000, 11L);
        for (PromptResponse pair : pairs) {
            sum += gold.score(pair.prompt(), pair.response());
        }

        double mean = sum / pairs.size();
        assertTrue(Math.abs(mean) < 0.2, "mean gold of SFT responses: " + mean);
    }

    @Test
    void scoreRisesWithValence() {
        List<String> ladder =
                List.of(
                        "terrible",
                        "very poor",
                        "poor",
                        "fairly disappointing",
                        "average",
                        "rather nice",
                        "good",
                        "really pleasant",
                        "wonderful");
        double previous = -2;
        for (String phrase : ladder) {
            double score =
                    gold.score(
                            PROMPT,
                            " The room was " + phrase + ". The staff was " + phrase + "." + EOS);

            assertTrue(score > previous, phrase + " scored " + score + " after " + previous);
            previous = score;
        }
        assertEquals(
                -1.0, gold.score(PROMPT, " The room was terrible. The staff was awful."), 1e-9);
        assertEquals(
                1.0,
                gold.score(PROMPT, " The room was wonderful. I would warmly recommend this hotel."),
                1e-9);
    }

    @Test
    void degenerateTextScoresAtMostMinusHalf() {
        List<String> degenerate =
                List.of(
                        "",
                        EOS,
                        "   ",
                        " wonderful wonderful wonderful wonderful",
                        " The room was wonderful. The room was wonderful. The room was wonderful.",
                        " The room was wonderful. I found the room wonderful.",
                        " asdf qwer. zxcv.",
                        " The the the the the the.",
                        " wonderful. wonderful. wonderful.");
        for (String response : degenerate) {
            double score = gold.score(PROMPT, response);

            assertTrue(score <= -0.5, "'" + response + "' scored " + score);
        }
    }

    @Test
    void missingSecondSentenceCountsAsMinusOne() {
        assertEquals(0.0, gold.score(PROMPT, " The room was wonderful." + EOS), 1e-9);
    }

    @Test
    void truncatedLastSentenceCountsAsMinusOne() {
        double score =
                gold.score(
                        PROMPT,
                        " The room was wonderful. The staff was wonderful. The breakfast was");

        assertEquals((1 + 1 - 1) / 3.0, score, 1e-9);
    }

    @Test
    void sentencesBeyondTheThirdCountAsMinusOne() {
        String four =
                " The room was wonderful. The staff was wonderful. The breakfast was wonderful."
                        + " The location was wonderful.";

        assertEquals((3 - 1) / 4.0, gold.score(PROMPT, four), 1e-9);
    }

    @Test
    void sentenceAboutAnotherItemTypeScoresZero() {
        String response = " The exhibition was wonderful. The room was wonderful.";

        assertEquals(0.5, gold.score(PROMPT, response), 1e-9);
    }

    @Test
    void textAfterEosIsIgnoredAndWhitespaceIsLenient() {
        String response =
                "The room was wonderful.\n  The staff was wonderful." + EOS + " junk junk";

        assertEquals(1.0, gold.score(PROMPT, response), 1e-9);
    }

    @Test
    void unknownPromptDisablesTheItemCheck() {
        String response = " The exhibition was wonderful. The room was wonderful.";

        assertEquals(1.0, gold.score("Tell me about your trip.", response), 1e-9);
    }
}
