package dev.rlhf.rewardmodel.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bench.BenchShape;
import dev.rlhf.policy.bench.GemmRoofline;
import dev.rlhf.policy.bench.ReplicaScaling;
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

    /**
     * Runs {@code steps} timed steps on {@code replicas} data-parallel replicas after {@code warmup} untimed ones;
     * returns the figures as a map. With more than one replica the same steps also run on one, alternating with
     * them ({@link ReplicaScaling}), and the scaling is reported beside; the GEMM bound is then that of
     * {@code replicas} cores.
     */
    public static Map<String, Object> run(BenchShape shape, int warmup, int steps, int replicas) {
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = RewardModel.random(shape.modelConfig(), manager, 1);
                RewardModelTrainer trainer = new RewardModelTrainer(model, settings(shape, replicas));
                // the one-replica twin, only to measure the scaling against
                RewardModel singleModel = replicas > 1 ? RewardModel.random(shape.modelConfig(), manager, 1) : null;
                RewardModelTrainer single =
                        replicas > 1 ? new RewardModelTrainer(singleModel, settings(shape, 1)) : null) {
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < warmup; i++) {
                List<PreferenceExample> pairs = pairs(shape, random);
                trainer.step(pairs);
                if (single != null) {
                    single.step(pairs);
                }
            }
            List<List<PreferenceExample>> batches = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                batches.add(pairs(shape, random));
            }
            double[] seconds;
            ReplicaScaling scaling = null;
            if (single != null) {
                scaling = ReplicaScaling.measure(replicas, steps, i -> single.step(batches.get(i)),
                        i -> trainer.step(batches.get(i)));
                seconds = scaling.replicated();
            } else {
                seconds = new double[steps];
                for (int i = 0; i < steps; i++) {
                    long start = System.nanoTime();
                    trainer.step(batches.get(i));
                    seconds[i] = (System.nanoTime() - start) / 1e9;
                }
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
            if (scaling != null) {
                scaling.report(result, "pairs", shape.batch());
            }
            // one packed row per pair: the prompt once, both responses, the last block at the two scored tokens
            // (the scalar score head is too small to count)
            long packedRow = shape.promptLength() + 2L * shape.newTokens();
            new GemmRoofline().trunk(shape.modelConfig(), shape.batch(), packedRow, 2, true, 1)
                    .report(result, "step", "pairs", shape.batch() * replicas, steps * shape.batch() / total,
                            manager);
            return result;
        }
    }

    private static RewardTrainingSettings settings(BenchShape shape, int replicas) {
        return new RewardTrainingSettings(1, 1e-4f, 0, 0.01f, 1f, shape.batch(), 1, 1, 0.1, 0f, 64, replicas);
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
