package dev.rlhf.policy.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.Generator;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generation throughput with random weights: multinomial sampling at temperature 1, a batch of random prompts,
 * a fixed number of new tokens (no EOS), after warm-up batches. Next to the throughput it reports the bound that
 * the batch's weight products alone set on this machine ({@link GemmRoofline}), measured in the same run.
 */
public final class GenerationBenchmark {
    private GenerationBenchmark() {}

    /** Runs {@code batches} timed batches after {@code warmup} untimed ones; returns the figures as a map. */
    public static Map<String, Object> run(BenchShape shape, int warmup, int batches) {
        try (NDManager manager = NDManager.newBaseManager();
                GptModel model = new GptModel(GptWeights.random(shape.modelConfig(), false, manager, 1))) {
            Generator generator = new Generator(model, null);
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < warmup; i++) {
                generator.generate(requests(shape, random));
            }
            double[] seconds = new double[batches];
            long tokens = 0;
            for (int i = 0; i < batches; i++) {
                List<GenerationRequest> requests = requests(shape, random);
                long start = System.nanoTime();
                tokens += generator.generate(requests).stream().mapToLong(c -> c.tokenIds().length).sum();
                seconds[i] = (System.nanoTime() - start) / 1e9;
            }
            double total = java.util.Arrays.stream(seconds).sum();
            double best = java.util.Arrays.stream(seconds).min().orElse(Double.NaN);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("benchmark", "generate");
            result.put("config", shape.asMap());
            result.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
            result.put("threads", Runtime.getRuntime().availableProcessors());
            result.put("batches", batches);
            result.put("tokens_per_s", tokens / total);
            result.put("seconds_per_batch", total / batches);
            result.put("best_seconds_per_batch", best);
            new GemmRoofline()
                    .generation(shape.modelConfig(), shape.batch(), shape.promptLength(), shape.newTokens() - 1)
                    .report(result, "batch", "tokens", (double) shape.batch() * shape.newTokens(), tokens / total,
                            manager);
            return result;
        }
    }

    private static List<GenerationRequest> requests(BenchShape shape, SplittableRandom random) {
        List<GenerationRequest> requests = new ArrayList<>(shape.batch());
        for (int b = 0; b < shape.batch(); b++) {
            int[] prompt = random.ints(shape.promptLength(), 0, shape.vocab()).toArray();
            requests.add(new GenerationRequest(prompt, SamplingParams.sample(shape.newTokens(), random.nextLong())));
        }
        return requests;
    }
}
