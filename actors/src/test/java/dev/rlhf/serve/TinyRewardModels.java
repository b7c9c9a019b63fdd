package dev.rlhf.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.TensorSpec;
import dev.rlhf.rewardmodel.RewardModel;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardNormalizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reward-model versions with random weights (the score head too, so pairs score differently), saved as an
 * experiment run saves them, over the tokenizer of {@link TinyServedModel}. Their context is {@link #CONTEXT}
 * tokens.
 */
final class TinyRewardModels {
    static final int CONTEXT = 48;

    private TinyRewardModels() {}

    /**
     * Writes version {@code version} (seeded with it; normaliser mean 0.1 * version, std 2) as {@code vNNNN} under
     * {@code root}, with the tokenizer found in {@code tokenizerDir}.
     *
     * @return its directory
     */
    static Path write(NDManager manager, Path tokenizerDir, int vocabSize, Path root, int version)
            throws IOException {
        GptConfig config = GptConfig.of(vocabSize, CONTEXT, 32, 2, 2, -1);
        GptWeights trunk = GptWeights.random(config, false, manager, version);
        Map<String, NDArray> tensors = new LinkedHashMap<>(trunk.tensors());
        for (TensorSpec head : RewardModel.headSpecs(config)) {
            NDArray values = trunk.manager().randomNormal(0, 0.5f, head.memoryShape(), DataType.FLOAT32);
            values.setName(head.name());
            tensors.put(head.name(), values);
        }
        Path dir = RewardModelCheckpoint.versionDirectory(root, version);
        try (RewardModel model = RewardModel.of(new GptWeights(config, trunk.manager(), tensors))) {
            RewardModelInfo info = new RewardModelInfo(version, 10L * version,
                    new RewardNormalizer(0.1 * version, 2, 50), Map.of("held_out_accuracy", 0.5 + 0.01 * version),
                    List.of());
            RewardModelCheckpoint.save(model, info, tokenizerDir, dir);
        }
        return dir;
    }
}
