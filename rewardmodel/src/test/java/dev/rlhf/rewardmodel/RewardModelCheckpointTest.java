package dev.rlhf.rewardmodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardModelCheckpointTest {
    private static final RewardModelInfo INFO = new RewardModelInfo(3, 1234, new RewardNormalizer(0.5, 2.0, 100),
            Map.of("held_out_accuracy", 0.93), List.of(new EpochReport(1, 0.6, 0.5, 0.93, 1.5)));

    @Test
    void savedCheckpointLoadsWithIdenticalScoresAndInfo(@TempDir Path dir) throws Exception {
        Path tokenizerDir = TinyRewardModels.tokenizerDir(dir.resolve("tokenizer"));
        List<PromptResponse> pairs = new ReviewCorpus().sftPairs(20, 4);
        Path saved = RewardModelCheckpoint.versionDirectory(dir.resolve("rm"), INFO.version());
        try (NDManager manager = NDManager.newBaseManager();
                TextTokenizer tokenizer = TextTokenizer.load(tokenizerDir)) {
            GptConfig config = TinyRewardModels.config(tokenizer.vocabSize());
            double[] before;
            try (RewardModel model = TinyRewardModels.withRandomHead(config, manager, 8)) {
                before = new RewardScorer(model, new SequenceEncoder(tokenizer, TinyRewardModels.CONTEXT), INFO.normalizer(), 8)
                        .scores(pairs);
                RewardModelCheckpoint.save(model, INFO, tokenizerDir, saved);
            }

            try (RewardModelCheckpoint.Loaded loaded = RewardModelCheckpoint.load(saved, manager)) {
                assertArrayEquals(before, loaded.scorer(8).scores(pairs), 0.0, "scores after save and load");
                assertEquals(INFO, loaded.info(), "reward_model.json round trip");
            }
            assertEquals(saved, RewardModelCheckpoint.latest(dir.resolve("rm")).orElseThrow(), "latest version");
            assertTrue(Files.readString(saved.resolve("config.json")).contains("GPT2ForSequenceClassification"),
                    "config.json names the Hugging Face class");
        }
    }

    @Test
    void checkpointWithoutTheScoreHeadNamesTheMissingTensor(@TempDir Path dir) throws Exception {
        Path tokenizerDir = TinyRewardModels.tokenizerDir(dir);
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights policyOnly = GptWeights.random(
                        TinyRewardModels.config(TinyRewardModels.vocabOf(tokenizerDir)), false, manager, 1)) {
            GptCheckpoint.save(policyOnly, dir);
            INFO.write(dir);

            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> RewardModelCheckpoint.load(dir, manager));
            assertTrue(e.getMessage().contains("missing tensor score.weight"),
                    "the error should name the missing tensor: " + e.getMessage());
        }
    }

    @Test
    void checkpointWithoutItsInfoFileSaysSo(@TempDir Path dir) throws Exception {
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = RewardModel.random(TinyRewardModels.config(32), manager, 1)) {
            GptCheckpoint.save(model.weights(), dir);
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> RewardModelCheckpoint.load(dir, manager));
            assertEquals("reward model checkpoint " + dir + " has no reward_model.json", e.getMessage());
        }
    }
}
