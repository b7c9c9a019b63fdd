package dev.rlhf.run;

import dev.rlhf.actors.AnnotatorsMode;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.rewardmodel.RewardModelBuilder;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The reward model a run starts from ({@code rlhf.experiment.reward-model}): checked against the policy before
 * anything runs, and copied into the run directory as version 1, so that a resumed run, the summary and serving
 * find it where they find every version.
 *
 * @param dir the reward-model checkpoint (the newest complete version when the key names a directory of versions)
 * @param config its network's shape
 * @param sharesTokenizer whether it holds the policy's tokenizer.json (or none, and reads the policy's tokens)
 */
record GivenRewardModel(Path dir, GptConfig config, boolean sharesTokenizer) {

    /**
     * Resolves and checks the reward model {@code key} names for a policy.
     *
     * @throws CheckpointException naming the directory and what does not match: no reward model there, a
     *     vocabulary other than the policy's, or a tokenizer of its own where the run retrains it
     */
    static GivenRewardModel check(String key, Path policyDir, GptConfig policy, AnnotatorsMode annotators)
            throws IOException {
        Path dir = resolve(Path.of(key));
        RewardModelInfo.read(dir); // a clear error when it is not a reward model
        GptConfig config = GptConfig.read(dir);
        Path tokenizer = dir.resolve(RewardModelCheckpoint.TOKENIZER_JSON);
        if (!Files.isRegularFile(tokenizer)) {
            if (config.vocabSize() != policy.vocabSize()) {
                throw mismatch(dir, "it has no " + RewardModelCheckpoint.TOKENIZER_JSON + " of its own, and its"
                        + " vocabulary of " + config.vocabSize() + " tokens is not the policy's " + policy.vocabSize());
            }
            return new GivenRewardModel(dir, config, true);
        }
        if (RewardModelBuilder.sharesTokenizer(dir, policyDir)) {
            return new GivenRewardModel(dir, config, true);
        }
        if (annotators != AnnotatorsMode.NONE) {
            throw mismatch(dir, "its tokenizer.json is not the policy's, and annotators mode " + annotators.key()
                    + " retrains it on the policy's tokens; use annotators mode none or a reward model trained from"
                    + " the policy (./rlhf rm train --base " + policyDir + ")");
        }
        int tokens;
        try (TextTokenizer own = TextTokenizer.load(dir)) {
            tokens = own.vocabSize();
        }
        if (tokens > config.vocabSize()) {
            throw mismatch(dir, "its tokenizer.json has " + tokens + " tokens but its embeddings only "
                    + config.vocabSize());
        }
        return new GivenRewardModel(dir, config, false);
    }

    /**
     * Copies the checkpoint into {@code versionsRoot} as version 1 (trained on none of the run's judgments), with
     * the policy's tokenizer files where it has none of its own; the version's info file goes last.
     */
    void installAsVersionOne(Path policyDir, Path versionsRoot) throws IOException {
        Path target = RewardModelCheckpoint.versionDirectory(versionsRoot, 1);
        Files.createDirectories(target);
        Files.copy(dir.resolve(GptConfig.FILE_NAME), target.resolve(GptConfig.FILE_NAME),
                StandardCopyOption.REPLACE_EXISTING);
        Files.copy(dir.resolve(GptCheckpoint.WEIGHTS_FILE), target.resolve(GptCheckpoint.WEIGHTS_FILE),
                StandardCopyOption.REPLACE_EXISTING);
        Path tokenizerSource = Files.isRegularFile(dir.resolve(RewardModelCheckpoint.TOKENIZER_JSON)) ? dir : policyDir;
        for (String name : RewardModelCheckpoint.TOKENIZER_FILES) {
            if (Files.isRegularFile(tokenizerSource.resolve(name))) {
                Files.copy(tokenizerSource.resolve(name), target.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        RewardModelInfo info = RewardModelInfo.read(dir);
        new RewardModelInfo(1, -1, info.normalizer(), info.metrics(), info.epochs()).write(target);
    }

    /** {@code dir} when it is a reward-model checkpoint, else the newest complete version under it. */
    private static Path resolve(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException("rlhf.experiment.reward-model " + dir + " is not a directory");
        }
        if (Files.isRegularFile(dir.resolve(RewardModelInfo.FILE_NAME))) {
            return dir;
        }
        return RewardModelCheckpoint.latest(dir).orElseThrow(() -> new CheckpointException(
                "rlhf.experiment.reward-model " + dir + " is not a reward model: it has no "
                        + RewardModelInfo.FILE_NAME + " and no versions (v0001, ...)"));
    }

    private static CheckpointException mismatch(Path dir, String why) {
        return new CheckpointException("reward model " + dir + " does not match the policy: " + why);
    }
}
