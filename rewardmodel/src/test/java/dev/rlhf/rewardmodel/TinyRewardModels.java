package dev.rlhf.rewardmodel;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.TorchOps;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Small random reward models and a tokenizer for the fast tests. */
final class TinyRewardModels {
    /** Long enough for corpus pairs under the small test tokenizer, which splits words finely. */
    static final int CONTEXT = 128;

    private TinyRewardModels() {}

    static GptConfig config(int vocab) {
        return GptConfig.of(vocab, CONTEXT, 16, 2, 2, vocab - 1);
    }

    /** A random model whose score head is random too (a fresh model's head is zero, so every score would tie). */
    static RewardModel withRandomHead(GptConfig config, NDManager manager, long seed) {
        RewardModel model = RewardModel.random(config, manager, seed);
        SplittableRandom random = new SplittableRandom(seed);
        float[] head = new float[config.dModel()];
        for (int i = 0; i < head.length; i++) {
            head[i] = (float) (random.nextDouble() - 0.5);
        }
        TorchOps.copyInto(model.weights().get(RewardModel.SCORE_WEIGHT), head);
        TorchOps.copyInto(model.weights().get(RewardModel.SCORE_BIAS), new float[] {0.25f});
        return model;
    }

    /** Trains a small byte-level BPE on corpus documents into {@code dir}. */
    static Path tokenizerDir(Path dir) throws IOException {
        new ByteLevelBpeTrainer(300).train(new ReviewCorpus().pretrainingDocuments(200, 1)).writeTokenizerJson(dir);
        return dir;
    }

    static int vocabOf(Path tokenizerDir) throws IOException {
        try (TextTokenizer tokenizer = TextTokenizer.load(tokenizerDir)) {
            return tokenizer.vocabSize();
        }
    }
}
