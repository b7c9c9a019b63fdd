package dev.rlhf.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run directory's config.conf: it records the run's configuration without the server's secrets. */
class RunConfigFileTest {
    private static final String TOKEN = "token-that-must-stay-out-of-run-directories";

    @TempDir Path dir;

    @Test
    void configFileLeavesOutTheServeSectionAndItsBearerToken() throws Exception {
        Config config = withToken(TinyExperiments.config(dir, 3));

        new RunConfigFile(dir, config).write();
        String written = Files.readString(dir.resolve(RunConfigFile.FILE_NAME));

        assertFalse(written.contains(TOKEN), "config.conf holds the bearer token:\n" + written);
        assertFalse(ConfigFactory.parseString(written).hasPath("serve"), "config.conf holds rlhf.serve");
        assertEquals(3, ConfigFactory.parseString(written).getInt("experiment.iterations"),
                "config.conf records the experiment:\n" + written);
    }

    @Test
    void configFileMatchesTheConfigurationItRecordsWhateverTheServeSection() throws Exception {
        Config config = TinyExperiments.config(dir, 3);
        new RunConfigFile(dir, withToken(config)).write();

        assertTrue(new RunConfigFile(dir, config).matches(), "the same run, another server token");
        assertFalse(new RunConfigFile(dir, config.withValue("rlhf.ppo.seed", ConfigValueFactory.fromAnyRef(99)))
                .matches(), "another PPO seed");
    }

    @Test
    void configFileWrittenWithTheServeSectionStillMatchesOnResume() throws Exception {
        Config config = TinyExperiments.config(dir, 3);
        Files.writeString(dir.resolve(RunConfigFile.FILE_NAME), withToken(config).getConfig("rlhf").root()
                .render(ConfigRenderOptions.concise().setFormatted(true)));

        assertTrue(new RunConfigFile(dir, config).matches(),
                "a config.conf that still holds rlhf.serve (written before it was left out) matches its run");
    }

    @Test
    void configFileLeavesOutTheClusterTokenAndKeyStorePasswords() throws Exception {
        String password = "key-store-password-that-must-stay-out";
        Config config = TinyExperiments.config(dir, 3)
                .withValue("rlhf.cluster.token", ConfigValueFactory.fromAnyRef(TOKEN))
                .withValue("rlhf.cluster.tls.key-store-password", ConfigValueFactory.fromAnyRef(password))
                .withValue("rlhf.cluster.tls.trust-store-password", ConfigValueFactory.fromAnyRef(password));

        new RunConfigFile(dir, config).write();
        String written = Files.readString(dir.resolve(RunConfigFile.FILE_NAME));

        assertFalse(written.contains(TOKEN), "config.conf holds rlhf.cluster.token:\n" + written);
        assertFalse(written.contains(password), "config.conf holds a key store password:\n" + written);
        assertTrue(ConfigFactory.parseString(written).hasPath("cluster.enabled"), "config.conf records the rest "
                + "of rlhf.cluster:\n" + written);
        assertTrue(new RunConfigFile(dir, TinyExperiments.config(dir, 3)).matches(),
                "the same run with other cluster credentials");
    }

    private static Config withToken(Config config) {
        return config.withValue("rlhf.serve.auth-token", ConfigValueFactory.fromAnyRef(TOKEN));
    }
}
