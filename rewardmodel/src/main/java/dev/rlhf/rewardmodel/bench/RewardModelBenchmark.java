package dev.rlhf.rewardmodel.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bench.BenchShape;
import dev.rlhf.policy.bench.GemmRoofline;
import dev.rlhf.rewardmodel.PreferenceExample;
import dev.rlhf.rewardmodel.RewardModel;
import dev.rlhf.rewardmodel.RewardModelTrainer;
import dev.rlhf.rewardmodel.RewardTrainingSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Bradley–Terry training throughput with random weights: each step trains on {@code batch} pairs, each a random
 * prompt of {@code prompt-len} tokens with two random responses of {@code new-tokens} tokens, as the trainer does
 * (one forward pass with the prompt of each pair computed once, backward, an AdamW update with gradient
 * clipping); after untimed warm-up steps. Next to the throughput it reports the bound that the step's weight
 * products alone set on this machine ({@link GemmRoofline}), measured in the same run.
 */
public final class RewardModelBenchmark {
    private RewardModelBenchmark() {}

    /** Runs {@code steps} timed steps after {@code warmup} untimed ones; returns the figures as a map. */
    public static Map<String, Object> run(BenchShape shape, int warmup, int steps) {
        RewardTrainingSettings settings =
                new RewardTrainingSettings(1, 1e-4f, 0, 0.01f, 1f, shape.batch(), 1, 1, 0.1, 0f, 64, 1);
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = RewardModel.random(shape.modelConfig(), manager, 1);
                RewardModelTrainer trainer = new RewardModelTrainer(model, settings)) {
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < warmup; i++) {
                trainer.step(pairs(shape, random));
            }
            double[] seconds = new double[steps];
            for (int i = 0; i < steps; i++) {
                List<PreferenceExample> pairs = pairs(shape, random);
                long start = System.nanoTime();
                trainer.step(pairs);
                seconds[i] = (System.nanoTime() - start) / 1e9;
            }
            double total = Arrays.stream(seconds).sum();
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("benchmark", "rm");
            result.put("config", shape.asMap());
            result.put("sequence_len", shape.promptLength() + shape.newTokens());
            result.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
            result.put("threads", Runtime.getRuntime().availableProcessors());
            result.put("steps", steps);
            result.put("pairs_per_s", (double) steps * shape.batch() / total);
            result.put("seconds_per_step", total / steps);
            result.put("best_seconds_per_step", Arrays.stream(seconds).min().orElse(Double.NaN));
            // one packed row per pair: the prompt once, both responses, the last block at the two scored tokens
            // (the scalar score head is too small to count)
            long packedRow = shape.promptLength() + 2L * shape.newTokens();
            new GemmRoofline().trunk(shape.modelConfig(), shape.batch(), packedRow, 2, true, 1)
                    .report(result, "step", "pairs", shape.batch(), steps * shape.batch() / total, manager);
            return result;
        }
    }

    private static List<PreferenceExample> pairs(BenchShape shape, SplittableRandom random) {
        List<PreferenceExample> pairs = new ArrayList<>(shape.batch());
        for (int b = 0; b < shape.batch(); b++) {
            int[] prompt = random.ints(shape.promptLength(), 0, shape.vocab()).toArray();
            pairs.add(PreferenceExample.single(withResponse(prompt, shape, random),
                    withResponse(prompt, shape, random), 1));
        }
        return pairs;
    }

    private static int[] withResponse(int[] prompt, BenchShape shape, SplittableRandom random) {
        int[] sequence = Arrays.copyOf(prompt, prompt.length + shape.newTokens());
        for (int t = prompt.length; t < sequence.length; t++) {
            sequence[t] = random.nextInt(shape.vocab());
        }
        return sequence;
    }
}
