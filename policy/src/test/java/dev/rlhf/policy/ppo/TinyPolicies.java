package dev.rlhf.policy.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Small random policies and rollout batches for the PPO tests. */
final class TinyPolicies {
    static final GptConfig CONFIG = GptConfig.of(8, 16, 32, 2, 2, -1);

    private TinyPolicies() {}

    /** A random policy whose value head is random too (GPT-2's init leaves it zero, which would hide bugs). */
    static GptModel withValueHead(NDManager manager, long seed) {
        GptWeights weights = GptWeights.random(CONFIG, true, manager, seed);
        SplittableRandom random = new SplittableRandom(seed + 1);
        float[] head = new float[CONFIG.dModel()];
        for (int i = 0; i < head.length; i++) {
            head[i] = (float) (random.nextDouble() - 0.5);
        }
        NDArray weight = weights.get(GptWeights.VALUE_HEAD_WEIGHT);
        weight.addi(weights.manager().create(head, new Shape(1, CONFIG.dModel())));
        weights.get(GptWeights.VALUE_HEAD_BIAS).addi(0.3f);
        return new GptModel(weights);
    }

    /** Random prompts of 1 to {@code maxPrompt} tokens and responses of 1 to {@code maxResponse} tokens. */
    static RolloutSequences randomBatch(int batch, int maxPrompt, int maxResponse, SplittableRandom random) {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> responses = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            prompts.add(random.ints(1 + random.nextInt(maxPrompt), 0, CONFIG.vocabSize()).toArray());
            responses.add(random.ints(1 + random.nextInt(maxResponse), 0, CONFIG.vocabSize()).toArray());
        }
        return RolloutSequences.pack(prompts, responses, 0);
    }
}
