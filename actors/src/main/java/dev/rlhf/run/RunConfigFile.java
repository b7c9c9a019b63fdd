package dev.rlhf.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A run directory's {@code config.conf}: the configuration the run was started with, which a resumed run is
 * compared against. It records all of {@code rlhf} but {@code rlhf.serve} and the cluster's credentials
 * ({@code rlhf.cluster.tls}, {@code rlhf.cluster.token}): they configure a server or a node, not the run, and hold
 * secrets (bearer tokens, key store passwords), which must never be written into a run directory.
 */
final class RunConfigFile {
    static final String FILE_NAME = "config.conf";
    /** Sections of {@code rlhf} not recorded (nor compared, so that a file written before them still matches). */
    private static final List<String> UNRECORDED = List.of("serve", "cluster.tls", "cluster.token");

    private final Path file;
    private final Config recorded;

    /** The file of {@code runDir}, recording {@code config}. */
    RunConfigFile(Path runDir, Config config) {
        this.file = runDir.resolve(FILE_NAME);
        this.recorded = unrecordedLeftOut(config.getConfig("rlhf"));
    }

    boolean exists() {
        return Files.exists(file);
    }

    /** Writes the configuration, as formatted JSON. */
    void write() throws IOException {
        Files.writeString(file, recorded.root().render(ConfigRenderOptions.concise().setFormatted(true)),
                StandardCharsets.UTF_8);
    }

    /**
     * Whether the file records this configuration: the same keys with the same values. A file written before
     * {@code rlhf.serve} was left out is compared without that section (and without the cluster's credentials);
     * one that does not parse matches nothing.
     */
    boolean matches() throws IOException {
        try {
            Config stored = ConfigFactory.parseString(Files.readString(file, StandardCharsets.UTF_8),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
            return recorded.equals(unrecordedLeftOut(stored));
        } catch (ConfigException e) {
            return false;
        }
    }

    private static Config unrecordedLeftOut(Config rlhf) {
        Config kept = rlhf;
        for (String path : UNRECORDED) {
            kept = kept.withoutPath(path);
        }
        return kept;
    }

    @Override
    public String toString() {
        return file.toString();
    }
}
