package dev.rlhf.serve;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Settings of RewardService, read from {@code rlhf.serve.reward} (documented in the actors module's
 * {@code reference.conf}).
 *
 * @param model a reward-model checkpoint, or a directory of versions ({@code v0001}, ...), to serve; empty for none
 * @param maxPairs most pairs one Score call may send
 * @param maxTextBytes most bytes of UTF-8 in a pair's prompt, and in its response
 * @param batchSize sequences per forward pass when scoring
 * @param maxQueuedCalls most calls waiting for the scoring thread; more answer RESOURCE_EXHAUSTED
 * @param maxLoadedVersions most reward-model versions held in memory at once
 */
public record RewardServeSettings(
        Optional<Path> model, int maxPairs, int maxTextBytes, int batchSize, int maxQueuedCalls,
        int maxLoadedVersions) {
    /** The configuration section these settings are read from. */
    public static final String CONFIG_PATH = ServeSettings.CONFIG_PATH + ".reward";

    /** @throws IllegalArgumentException naming the setting that is not positive */
    public RewardServeSettings {
        requirePositive(maxPairs, "max-pairs");
        requirePositive(maxTextBytes, "max-text-bytes");
        requirePositive(batchSize, "batch-size");
        requirePositive(maxQueuedCalls, "max-queued-calls");
        requirePositive(maxLoadedVersions, "max-loaded-versions");
    }

    /**
     * Reads {@code rlhf.serve.reward} from {@code config}.
     *
     * @throws com.typesafe.config.ConfigException if a key is missing or has the wrong type
     * @throws IllegalArgumentException if a value is out of range
     */
    public static RewardServeSettings fromConfig(Config config) {
        Config c = config.getConfig(CONFIG_PATH);
        String model = c.getString("model");
        return new RewardServeSettings(model.isEmpty() ? Optional.empty() : Optional.of(Path.of(model)),
                c.getInt("max-pairs"), c.getBytes("max-text-bytes").intValue(), c.getInt("batch-size"),
                c.getInt("max-queued-calls"), c.getInt("max-loaded-versions"));
    }

    /** These settings serving {@code dir}. */
    public RewardServeSettings withModel(Path dir) {
        return new RewardServeSettings(Optional.of(dir), maxPairs, maxTextBytes, batchSize, maxQueuedCalls,
                maxLoadedVersions);
    }

    private static void requirePositive(int value, String key) {
        if (value <= 0) {
            throw new IllegalArgumentException(CONFIG_PATH + "." + key + " must be positive but was: " + value);
        }
    }
}
