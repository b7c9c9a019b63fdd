package dev.rlhf.run;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.metrics.MetricsJsonlWriter;
import dev.rlhf.policy.bootstrap.Bootstrap;
import dev.rlhf.policy.bootstrap.BootstrapSettings;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Experiments small enough for tests that drive runs rather than judge learning: a one-layer SFT policy and a run
 * of a few seconds per iteration, with iterated RLHF retraining the reward model part-way.
 */
public final class TinyExperiments {
    private TinyExperiments() {}

    /** Builds the tiny SFT policy into {@code dir}. */
    public static Path bootstrapPolicy(Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            new Bootstrap(new BootstrapSettings(5, 400, 64, 32, 1, 2, 16, 1000, 60, 3e-3f, 200, 20, 1e-3f))
                    .run(dir, manager);
        }
        return dir;
    }

    /**
     * Builds into {@code dir} the two-layer SFT policy the end-to-end tests judge learning on: large enough that its
     * gold reward moves clear of noise within 30 iterations.
     */
    public static Path bootstrapLearningPolicy(Path dir) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            new Bootstrap(new BootstrapSettings(3, 600, 64, 64, 2, 4, 32, 6000, 400, 3e-3f, 1000, 80, 1e-3f))
                    .run(dir, manager);
        }
        return dir;
    }

    /**
     * The experiment keys of a tiny run in {@code runDir}: 16 prompts per iteration, 4 pairs judged per iteration
     * (so a reward model retrains after iteration 1 and takes over at 3), a checkpoint every 4 iterations.
     */
    public static Map<String, Object> keys(Path runDir, int iterations) {
        return Map.ofEntries(
                Map.entry("rlhf.experiment.run-dir", runDir.toString()),
                Map.entry("rlhf.experiment.iterations", iterations),
                Map.entry("rlhf.experiment.prompts-per-iteration", 16),
                Map.entry("rlhf.experiment.evaluation.prompts", 16),
                Map.entry("rlhf.experiment.sampling.max-new-tokens", 16),
                Map.entry("rlhf.experiment.reward.comparisons", 48),
                Map.entry("rlhf.experiment.reward.dataset-comparisons", 48),
                Map.entry("rlhf.experiment.iterated.pairs-per-iteration", 4),
                Map.entry("rlhf.experiment.iterated.retrain-after", 16),
                Map.entry("rlhf.experiment.checkpoint-every", 4),
                Map.entry("rlhf.reward-model.max-epochs", 1));
    }

    /** {@link #keys} over the reference configuration. */
    public static Config config(Path runDir, int iterations) {
        return ConfigFactory.parseMap(keys(runDir, iterations)).withFallback(ConfigFactory.load());
    }

    /** The policy weights of a run's checkpoint after {@code iteration}. */
    public static Path weightsAt(Path run, int iteration) {
        return run.resolve(String.format("checkpoints/iter-%05d", iteration)).resolve(GptCheckpoint.WEIGHTS_FILE);
    }

    /** Each iteration's metrics without the timings, which differ between any two runs. */
    public static List<JsonObject> deterministicMetrics(Path run) throws IOException {
        List<JsonObject> lines = Files.readAllLines(run.resolve(MetricsJsonlWriter.FILE_NAME)).stream()
                .map(line -> JsonParser.parseString(line).getAsJsonObject())
                .toList();
        for (JsonObject line : lines) {
            line.keySet().removeIf(key -> key.equals(MetricsJsonlWriter.WALL_TIME) || key.startsWith("time/")
                    || key.startsWith("perf/"));
        }
        return lines;
    }

    /** A console that prints nowhere. */
    public static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
