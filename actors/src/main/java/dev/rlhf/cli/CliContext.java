package dev.rlhf.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.DeviceChoice;
import java.nio.file.Files;
import java.nio.file.Path;

/** What every command reads once: the resolved HOCON configuration and the device it names. */
final class CliContext {
    private final Config config;

    private CliContext(Config config) {
        this.config = config;
    }

    /** reference.conf of every module, overridden by application.conf and -D system properties. */
    static CliContext load() {
        return new CliContext(ConfigFactory.load());
    }

    /** A context over an already resolved configuration. */
    static CliContext of(Config config) {
        return new CliContext(config);
    }

    Config config() {
        return config;
    }

    Device device() {
        return DeviceChoice.parse(config.getString("rlhf.device")).resolve();
    }

    /** A new root manager on the configured device; the caller closes it. */
    NDManager newManager() {
        return NDManager.newBaseManager(device());
    }

    Path embeddedModelDir() {
        return Path.of(config.getString("rlhf.embedded-model-dir"));
    }

    /**
     * The configuration a command's HOCON {@code file} gives: -D system properties over the file over the
     * reference defaults, resolved.
     *
     * @throws IllegalArgumentException if the file does not exist
     */
    static Config readConfigFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no such config file: " + file);
        }
        return ConfigFactory.systemProperties()
                .withFallback(ConfigFactory.parseFile(file.toFile()))
                .withFallback(ConfigFactory.load())
                .resolve();
    }

    /**
     * The SFT policy an experiment configuration names ({@code rlhf.experiment.policy-checkpoint}), or the embedded
     * one, built first if it is missing.
     */
    static Path experimentPolicy(Config experiment) throws Exception {
        String checkpoint = experiment.getString("rlhf.experiment.policy-checkpoint");
        if (!checkpoint.isEmpty()) {
            return Path.of(checkpoint);
        }
        CliContext context = of(experiment);
        Path embedded = context.embeddedModelDir();
        BootstrapCommand.ensureBuilt(context, embedded);
        return embedded;
    }
}
