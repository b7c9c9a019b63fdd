package dev.rlhf.serve;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.List;

/**
 * Settings of ExperimentService, read from {@code rlhf.serve.experiments} (documented in the actors module's
 * {@code reference.conf}). Paths are absolute and normalised.
 *
 * @param enabled whether {@code rlhf serve} serves ExperimentService without {@code --experiments}
 * @param runsRoot the directory every client experiment's run directory lies in
 * @param policyCheckpointDirs directories a client's {@code rlhf.experiment.policy-checkpoint} may name or lie in;
 *     empty allows only the embedded policy
 */
public record ExperimentServeSettings(boolean enabled, Path runsRoot, List<Path> policyCheckpointDirs) {
    /** The configuration section these settings are read from. */
    public static final String CONFIG_PATH = ServeSettings.CONFIG_PATH + ".experiments";
    /** The key of {@link #runsRoot()}. */
    public static final String RUNS_ROOT = CONFIG_PATH + ".runs-root";
    /** The key of {@link #policyCheckpointDirs()}. */
    public static final String POLICY_CHECKPOINT_DIRS = CONFIG_PATH + ".policy-checkpoint-dirs";

    public ExperimentServeSettings {
        runsRoot = runsRoot.toAbsolutePath().normalize();
        policyCheckpointDirs = policyCheckpointDirs.stream().map(dir -> dir.toAbsolutePath().normalize()).toList();
    }

    /**
     * Reads {@code rlhf.serve.experiments} from {@code config}.
     *
     * @throws com.typesafe.config.ConfigException if a key is missing or has the wrong type
     * @throws IllegalArgumentException if the runs root or a checkpoint directory is empty
     */
    public static ExperimentServeSettings fromConfig(Config config) {
        Config c = config.getConfig(CONFIG_PATH);
        return new ExperimentServeSettings(c.getBoolean("enabled"), nonEmptyPath(c.getString("runs-root"), RUNS_ROOT),
                c.getStringList("policy-checkpoint-dirs").stream()
                        .map(dir -> nonEmptyPath(dir, POLICY_CHECKPOINT_DIRS))
                        .toList());
    }

    private static Path nonEmptyPath(String value, String key) {
        if (value.isBlank()) {
            throw new IllegalArgumentException(key + " must name a directory but was empty");
        }
        return Path.of(value);
    }
}
