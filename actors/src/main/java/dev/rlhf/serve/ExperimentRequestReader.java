package dev.rlhf.serve;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.File;
import java.net.URL;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a client's {@code config_hocon} into the configuration of its run, under the server's rules: no includes;
 * substitutions see only the request itself (never the server's environment, system properties or configuration);
 * only keys under {@link #EXPERIMENT_SECTIONS}; the run directory inside the server's runs root; the policy
 * checkpoint from a directory the server lists. A refusal is {@code INVALID_ARGUMENT}, or {@code PERMISSION_DENIED}
 * for a path outside what the server allows, whose description names the key and echoes nothing of the server's.
 */
final class ExperimentRequestReader {
    /** The sections a client's experiment may set: what an experiment run reads, and nothing of the server's. */
    static final List<String> EXPERIMENT_SECTIONS =
            List.of("rlhf.experiment", "rlhf.ppo", "rlhf.reward-model", "rlhf.annotators");
    private static final String RUN_DIR = "rlhf.experiment.run-dir";
    private static final String POLICY_CHECKPOINT = "rlhf.experiment.policy-checkpoint";
    private static final String FIELD = "config_hocon";
    private static final List<List<String>> SECTION_PATHS =
            EXPERIMENT_SECTIONS.stream().map(ConfigUtil::splitPath).toList();

    private final Config base;
    private final ExperimentServeSettings settings;

    /**
     * @param base the server's configuration, which a request's keys are laid over; its {@code rlhf.serve} section
     *     is left out of every run's configuration (a run needs none of it, and it holds the bearer token)
     */
    ExperimentRequestReader(Config base, ExperimentServeSettings settings) {
        this.base = base.resolve().withoutPath(ServeSettings.CONFIG_PATH);
        this.settings = settings;
    }

    /**
     * The configuration to run: the request's keys over the server's configuration, with {@value #RUN_DIR} and a
     * non-empty {@value #POLICY_CHECKPOINT} made absolute.
     *
     * @throws StatusRuntimeException {@code INVALID_ARGUMENT} or {@code PERMISSION_DENIED} naming the key refused
     */
    Config read(String hocon) {
        Config request = parse(hocon);
        checkKeys(request.root(), List.of());
        if (!request.isResolved()) {
            // checkKeys names the key; this only makes sure nothing unresolved reaches the server's configuration
            throw invalid(FIELD + " holds a substitution the request does not set");
        }
        Path runDir = runDir(request);
        Config run = request.withValue(RUN_DIR, ConfigValueFactory.fromAnyRef(runDir.toString()));
        String checkpoint = request.hasPath(POLICY_CHECKPOINT) ? string(request, POLICY_CHECKPOINT) : "";
        if (!checkpoint.isEmpty()) {
            run = run.withValue(POLICY_CHECKPOINT,
                    ConfigValueFactory.fromAnyRef(policyCheckpoint(checkpoint).toString()));
        }
        return run.withFallback(base);
    }

    /** The request parsed without includes and resolved on its own, without the system environment. */
    private static Config parse(String hocon) {
        try {
            return ConfigFactory.parseString(hocon, ConfigParseOptions.defaults()
                            .setOriginDescription(FIELD)
                            .setIncluder(new NoIncludes()))
                    .resolve(ConfigResolveOptions.noSystem().setAllowUnresolved(true));
        } catch (IncludeRefused e) {
            throw invalid(FIELD + ": " + e.getMessage());
        } catch (ConfigException e) {
            throw invalid(FIELD + " does not parse: " + e.getMessage());
        }
    }

    /**
     * Refuses a key outside the experiment sections, named down to the value it sets, and a value whose
     * substitution the request does not set.
     */
    private static void checkKeys(ConfigObject object, List<String> prefix) {
        for (Map.Entry<String, ConfigValue> entry : object.entrySet()) {
            List<String> path = new ArrayList<>(prefix);
            path.add(entry.getKey());
            ConfigValue value = entry.getValue();
            if (value instanceof ConfigObject child) {
                try {
                    checkKeys(child, path);
                    continue;
                } catch (ConfigException.NotResolved e) {
                    // an object merged with a substitution, whose keys are not known: refused below as a whole
                }
            }
            if (SECTION_PATHS.stream().noneMatch(section -> startsWith(path, section))) {
                throw invalid(FIELD + ": " + ConfigUtil.joinPath(path) + " is not a key an experiment may set (the"
                        + " keys allowed are under " + String.join(", ", EXPERIMENT_SECTIONS) + ")");
            }
            if (!value.atKey("value").isResolved()) {
                throw invalid(FIELD + ": " + ConfigUtil.joinPath(path) + " holds a substitution the request does not"
                        + " set (substitutions see only the request itself, not the server's environment or"
                        + " configuration)");
            }
        }
    }

    private Path runDir(Config request) {
        if (!request.hasPath(RUN_DIR)) {
            throw invalid(FIELD + " must set " + RUN_DIR + " (it names the experiment)");
        }
        String value = string(request, RUN_DIR);
        Path root = settings.runsRoot();
        Path runDir = root.resolve(path(value, RUN_DIR)).normalize();
        if (!runDir.startsWith(root) || runDir.equals(root)) {
            throw denied(FIELD + ": " + RUN_DIR + " must name a directory inside the server's runs root ("
                    + ExperimentServeSettings.RUNS_ROOT + "; a relative one lies under it) but was \"" + value + "\"");
        }
        return runDir;
    }

    private Path policyCheckpoint(String value) {
        Path checkpoint = path(value, POLICY_CHECKPOINT).toAbsolutePath().normalize();
        if (settings.policyCheckpointDirs().stream().noneMatch(checkpoint::startsWith)) {
            throw denied(FIELD + ": " + POLICY_CHECKPOINT + " must lie in a directory the server lists in "
                    + ExperimentServeSettings.POLICY_CHECKPOINT_DIRS + (settings.policyCheckpointDirs().isEmpty()
                            ? " (none is listed: only the embedded policy, an empty " + POLICY_CHECKPOINT + ")"
                            : "") + " but was \"" + value + "\"");
        }
        return checkpoint;
    }

    private static String string(Config request, String key) {
        try {
            return request.getString(key);
        } catch (ConfigException e) {
            throw invalid(FIELD + ": " + e.getMessage());
        }
    }

    private static Path path(String value, String key) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw invalid(FIELD + ": " + key + " is not a path: " + e.getReason());
        }
    }

    private static boolean startsWith(List<String> path, List<String> prefix) {
        return path.size() >= prefix.size() && path.subList(0, prefix.size()).equals(prefix);
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static StatusRuntimeException denied(String message) {
        return Status.PERMISSION_DENIED.withDescription(message).asRuntimeException();
    }

    /**
     * Refuses every include: {@code include "x"} and the {@code file()}, {@code url()} and {@code classpath()}
     * forms, which Typesafe Config would otherwise hand to its default includer.
     */
    private static final class NoIncludes
            implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {
        @Override
        public ConfigIncluder withFallback(ConfigIncluder fallback) {
            return this;
        }

        @Override
        public ConfigObject include(ConfigIncludeContext context, String what) {
            throw new IncludeRefused("include \"" + what + "\"");
        }

        @Override
        public ConfigObject includeFile(ConfigIncludeContext context, File what) {
            throw new IncludeRefused("include file(\"" + what + "\")");
        }

        @Override
        public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
            throw new IncludeRefused("include url(\"" + what + "\")");
        }

        @Override
        public ConfigObject includeResources(ConfigIncludeContext context, String what) {
            throw new IncludeRefused("include classpath(\"" + what + "\")");
        }
    }

    /** An include in a request: a ConfigException, as an includer's contract has it, told apart from parse errors. */
    private static final class IncludeRefused extends ConfigException {
        private static final long serialVersionUID = 1L;

        IncludeRefused(String include) {
            super("includes are refused (" + include + "): the request must hold the whole experiment");
        }
    }
}
