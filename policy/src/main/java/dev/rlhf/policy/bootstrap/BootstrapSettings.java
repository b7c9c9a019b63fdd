package dev.rlhf.policy.bootstrap;

import com.typesafe.config.Config;

/**
 * How {@link Bootstrap} builds the embedded SFT policy; read from {@code rlhf.bootstrap} (see reference.conf).
 *
 * @param seed seeds the corpus, the initial weights and the batch order
 * @param vocabSize size of the byte-level BPE vocabulary trained on the corpus
 * @param contextLength learned positions of the model
 * @param dModel residual width
 * @param layers transformer blocks
 * @param heads attention heads
 * @param batchSize sequences per optimiser step
 * @param pretrainDocuments corpus documents for pretraining
 * @param pretrainSteps optimiser steps of pretraining
 * @param pretrainLearningRate peak learning rate of pretraining
 * @param sftPairs prompt/response pairs for supervised fine-tuning
 * @param sftSteps optimiser steps of SFT
 * @param sftLearningRate peak learning rate of SFT
 */
public record BootstrapSettings(
        long seed,
        int vocabSize,
        int contextLength,
        int dModel,
        int layers,
        int heads,
        int batchSize,
        int pretrainDocuments,
        int pretrainSteps,
        float pretrainLearningRate,
        int sftPairs,
        int sftSteps,
        float sftLearningRate) {

    /** Reads the {@code rlhf.bootstrap} block. */
    public static BootstrapSettings from(Config config) {
        Config c = config.getConfig("rlhf.bootstrap");
        return new BootstrapSettings(
                c.getLong("seed"),
                c.getInt("vocab-size"),
                c.getInt("context-length"),
                c.getInt("d-model"),
                c.getInt("layers"),
                c.getInt("heads"),
                c.getInt("batch-size"),
                c.getInt("pretrain.documents"),
                c.getInt("pretrain.steps"),
                (float) c.getDouble("pretrain.learning-rate"),
                c.getInt("sft.pairs"),
                c.getInt("sft.steps"),
                (float) c.getDouble("sft.learning-rate"));
    }
}
