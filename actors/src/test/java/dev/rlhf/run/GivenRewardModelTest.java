package dev.rlhf.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.actors.AnnotatorsMode;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.rewardmodel.RewardModel;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardNormalizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GivenRewardModelTest {
    @TempDir Path dir;

    /** A tiny checkpoint in {@code name} with a tokenizer trained on {@code corpus}; returns its directory. */
    private Path checkpoint(String name, List<String> corpus, int vocab) throws IOException {
        Path checkpoint = Files.createDirectories(dir.resolve(name));
        TextTokenizer tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(vocab).train(corpus)
                .writeTokenizerJson(checkpoint));
        GptConfig config = GptConfig.of(tokenizer.vocabSize(), 32, 16, 1, 2, -1);
        tokenizer.close();
        try (NDManager manager = NDManager.newBaseManager()) {
            GptWeights weights = GptWeights.random(config, false, manager, 1);
            GptCheckpoint.save(weights, checkpoint);
            weights.close();
        }
        return checkpoint;
    }

    /** A reward model on {@code base}'s trunk, with {@code base}'s tokenizer files. */
    private Path rewardModel(String name, Path base) throws IOException {
        Path out = dir.resolve(name);
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = RewardModel.initialise(GptCheckpoint.load(base, manager))) {
            RewardModelCheckpoint.save(model, new RewardModelInfo(3, 99, new RewardNormalizer(0.5, 2, 10),
                    Map.of("held_out_accuracy", 0.8), List.of()), base, out);
        }
        return out;
    }

    @Test
    void aRewardModelOnThePolicysTokenizerIsInstalledAsVersionOne() throws IOException {
        // setup
        Path policy = checkpoint("policy", List.of("the cafe was quiet and warm"), 280);
        Path rm = rewardModel("rm", policy);
        Path versions = dir.resolve("run/reward-models");

        // run
        GivenRewardModel given = GivenRewardModel.check(rm.toString(), policy, GptConfig.read(policy),
                AnnotatorsMode.HUMAN);
        given.installAsVersionOne(policy, versions);

        // verify
        assertTrue(given.sharesTokenizer());
        RewardModelInfo installed = RewardModelInfo.read(RewardModelCheckpoint.versionDirectory(versions, 1));
        assertEquals(1, installed.version(), "the run's first version");
        assertEquals(-1, installed.trainedThroughSequence(), "trained on none of the run's judgments");
        assertEquals(new RewardNormalizer(0.5, 2, 10), installed.normalizer(), "scores as it did");
    }

    @Test
    void aRewardModelWithATokenizerOfItsOwnIsUsedOnlyWhenNothingRetrainsIt() throws IOException {
        // setup
        Path policy = checkpoint("policy", List.of("the cafe was quiet and warm"), 280);
        Path other = checkpoint("other", List.of("a completely different corpus of words"), 290);
        Path rm = rewardModel("rm", other);

        // run
        GivenRewardModel fixed = GivenRewardModel.check(rm.toString(), policy, GptConfig.read(policy),
                AnnotatorsMode.NONE);
        CheckpointException retrained = assertThrows(CheckpointException.class, () -> GivenRewardModel.check(
                rm.toString(), policy, GptConfig.read(policy), AnnotatorsMode.HUMAN));

        // verify
        assertFalse(fixed.sharesTokenizer());
        assertTrue(retrained.getMessage().startsWith("reward model " + rm + " does not match the policy: its"
                + " tokenizer.json is not the policy's, and annotators mode human retrains it"),
                retrained.getMessage());
    }

    @Test
    void aRewardModelWithoutATokenizerMustHaveThePolicysVocabulary() throws IOException {
        // setup
        Path policy = checkpoint("policy", List.of("the cafe was quiet and warm"), 280);
        Path rm = rewardModel("rm", checkpoint("other", List.of("a different corpus"), 300));
        Files.delete(rm.resolve("tokenizer.json"));

        // run
        CheckpointException e = assertThrows(CheckpointException.class, () -> GivenRewardModel.check(
                rm.toString(), policy, GptConfig.read(policy), AnnotatorsMode.NONE));

        // verify
        assertTrue(e.getMessage().contains("does not match the policy: it has no tokenizer.json of its own, and its"
                + " vocabulary of " + GptConfig.read(rm).vocabSize() + " tokens is not the policy's "
                + GptConfig.read(policy).vocabSize()), e.getMessage());
    }

    @Test
    void aDirectoryThatHoldsNoRewardModelIsNamed() throws IOException {
        // setup
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path policy = checkpoint("policy", List.of("the cafe was quiet and warm"), 280);

        // run
        CheckpointException e = assertThrows(CheckpointException.class, () -> GivenRewardModel.check(
                empty.toString(), policy, GptConfig.read(policy), AnnotatorsMode.NONE));

        // verify
        assertEquals("rlhf.experiment.reward-model " + empty + " is not a reward model: it has no reward_model.json"
                + " and no versions (v0001, ...)", e.getMessage());
    }
}
