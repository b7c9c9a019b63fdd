package dev.rlhf.rewardmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardNormalizerTest {

    @Test
    void normalisedScoresOfTheReferenceSampleHaveMeanZeroAndUnitStd(@TempDir Path dir) throws Exception {
        Path tokenizerDir = TinyRewardModels.tokenizerDir(dir);
        List<PromptResponse> reference = new ReviewCorpus().sftPairs(100, 9);
        try (NDManager manager = NDManager.newBaseManager();
                TextTokenizer tokenizer = TextTokenizer.load(tokenizerDir);
                RewardModel model = TinyRewardModels.withRandomHead(
                        TinyRewardModels.config(tokenizer.vocabSize()), manager, 6)) {
            RewardScorer raw = new RewardScorer(model, new SequenceEncoder(tokenizer, TinyRewardModels.CONTEXT),
                    RewardNormalizer.IDENTITY, 32);

            RewardNormalizer normalizer = raw.fitNormalizer(reference);
            double[] scores = raw.withNormalizer(normalizer).scores(reference);

            double mean = Arrays.stream(scores).average().orElseThrow();
            double variance = Arrays.stream(scores).map(s -> (s - mean) * (s - mean)).average().orElseThrow();
            assertEquals(0, mean, 1e-5, "mean of normalised reference scores");
            assertEquals(1, Math.sqrt(variance), 1e-5, "std of normalised reference scores");
            assertEquals(100, normalizer.samples(), "reference sample size");
        }
    }

    @Test
    void identicalReferenceScoresCannotBeNormalised() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RewardNormalizer.fit(new float[] {0.5f, 0.5f, 0.5f}));
        assertEquals("referenceScores are all equal (0.5); nothing to scale", e.getMessage());
    }
}
