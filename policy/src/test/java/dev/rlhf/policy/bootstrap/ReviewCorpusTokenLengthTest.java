package dev.rlhf.policy.bootstrap;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.tokenizer.ByteLevelBpe;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

class ReviewCorpusTokenLengthTest {

    private static final Logger LOG = LoggerFactory.getLogger(ReviewCorpusTokenLengthTest.class);

    @TempDir Path dir;

    @Test
    void responsesAreFifteenToFortyTokensWithTheRecommendedVocabulary() throws IOException {
        ReviewCorpus corpus = new ReviewCorpus();
        ByteLevelBpe bpe =
                new ByteLevelBpeTrainer(768).train(corpus.pretrainingDocuments(4_000, 1L));
        List<PromptResponse> pairs = corpus.sftPairs(1_000, 2L);

        double promptTokens = 0;
        double responseTokens = 0;
        try (TextTokenizer tokenizer = TextTokenizer.load(bpe.writeTokenizerJson(dir))) {
            for (PromptResponse pair : pairs) {
                promptTokens += tokenizer.encode(pair.prompt()).length;
                responseTokens += tokenizer.encode(pair.response()).length;
            }
        }
        promptTokens /= pairs.size();
        responseTokens /= pairs.size();

        LOG.info(
                "vocab {}: {} tokens per prompt, {} per response (EOS included)",
                bpe.size(),
                promptTokens,
                responseTokens);
        assertTrue(
                responseTokens >= 15 && responseTokens <= 40,
                "mean response length in tokens: " + responseTokens);
        assertTrue(promptTokens <= 16, "mean prompt length in tokens: " + promptTokens);
    }
}
