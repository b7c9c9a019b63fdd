package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.TinyExperiments;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a node checks as it starts: one the network can reach (an address other than loopback) needs TLS or a token;
 * TLS is all four keys or none; a key store that cannot be read fails the node at once, without its password in the
 * message; no secret shows in the settings' {@code toString}; and every role's node runs Pekko's split-brain
 * resolver, keeping the coordinator's side.
 */
class ClusterNodeCheckTest {
    private static final String SECRET = "secret-that-must-not-show";

    @ParameterizedTest(name = "{0} = {1} in role {2}, token {3}: refused naming {4}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            rlhf.cluster.hostname             | 0.0.0.0  | coordinator | -      | rlhf.cluster.hostname
            rlhf.cluster.hostname             | 10.1.2.3 | rollout     | -      | rlhf.cluster.hostname
            rlhf.cluster.hostname             | no-such-host.invalid | rollout | - | rlhf.cluster.hostname
            pekko.remote.artery.bind.hostname | 0.0.0.0  | coordinator | -      | pekko.remote.artery.bind.hostname
            rlhf.cluster.worker.bind-host     | 0.0.0.0  | rollout     | -      | rlhf.cluster.worker.bind-host
            rlhf.cluster.worker.bind-host     | 0.0.0.0  | reward      | -      | rlhf.cluster.worker.bind-host
            rlhf.cluster.hostname             | 10.1.2.3 | reward      | -      | rlhf.cluster.hostname
            rlhf.cluster.worker.bind-host     | 0.0.0.0  | coordinator | -      | -
            rlhf.cluster.hostname             | 0.0.0.0  | rollout     | SECRET | -
            rlhf.cluster.hostname             | localhost | rollout    | -      | -
            rlhf.cluster.hostname             | ::1      | rollout     | -      | -
            rlhf.cluster.hostname             | 127.0.0.1 | rollout    | -      | -
            """)
    void aNodeTheNetworkCanReachNeedsTlsOrAToken(String key, String address, String role, String token,
            String refusedKey) {
        Map<String, Object> keys = new HashMap<>(Map.of(key, address));
        if (token != null) {
            keys.put("rlhf.cluster.token", SECRET);
        }
        Config config = ConfigFactory.parseMap(keys).withFallback(ConfigFactory.load());
        ClusterSettings settings = ClusterSettings.from(config);

        if (refusedKey == null) {
            assertDoesNotThrow(() -> settings.checkNode(config, role));
            return;
        }
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> settings.checkNode(config, role));
        String message = refused.getMessage();
        assertTrue(message.startsWith(refusedKey + " = \"" + address + "\" is not a loopback address"), message);
        assertTrue(message.contains("rlhf.cluster.tls") && message.contains("rlhf.cluster.token"),
                "names the keys to set: " + message);
        assertFalse(message.contains("\n"), "one line: " + message);
    }

    @Test
    void everyRoleDownsWithTheSplitBrainResolverKeepingTheCoordinatorsSide() {
        Config base = ConfigFactory.load();
        ClusterSettings settings = ClusterSettings.from(base);

        for (String role : new String[] {ClusterSettings.COORDINATOR_ROLE, ClusterSettings.ROLLOUT_ROLE,
            ClusterSettings.REWARD_ROLE, ClusterSettings.PREFERENCES_ROLE, ClusterSettings.LEARNER_ROLE}) {
            Config node = settings.nodeConfig(base, role);
            assertEquals("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider",
                    node.getString("pekko.cluster.downing-provider-class"), role);
            assertEquals("keep-oldest", node.getString("pekko.cluster.split-brain-resolver.active-strategy"), role);
            assertEquals(ClusterSettings.COORDINATOR_ROLE,
                    node.getString("pekko.cluster.split-brain-resolver.keep-oldest.role"), role);
            assertFalse(node.getBoolean("pekko.cluster.split-brain-resolver.keep-oldest.down-if-alone"), role);
        }
    }

    @Test
    void tlsSetInPartNamesTheMissingKeys() {
        Config config = ConfigFactory.parseMap(Map.of("rlhf.cluster.tls.key-store", "node.p12",
                        "rlhf.cluster.tls.key-store-password", SECRET))
                .withFallback(ConfigFactory.load());

        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> ClusterSettings.from(config));

        assertEquals("rlhf.cluster.tls is set in part: set rlhf.cluster.tls.trust-store, "
                + "rlhf.cluster.tls.trust-store-password as well (or none of rlhf.cluster.tls)", refused.getMessage());
    }

    @Test
    void bootstrapThroughPekkoManagementTakesNoSeedNodesAndStartsTheManagementEndpoint() {
        Config bootstrap = ConfigFactory.parseMap(Map.of("rlhf.cluster.bootstrap", "pekko-management"))
                .withFallback(ConfigFactory.load());
        ClusterSettings settings = ClusterSettings.from(bootstrap);

        assertTrue(settings.bootstrap() && settings.management(), "bootstrap probes the management endpoints");
        assertEquals(7626, settings.nodeConfig(bootstrap, ClusterSettings.ROLLOUT_ROLE)
                .getInt("pekko.management.http.port"));
        assertFalse(ClusterSettings.from(ConfigFactory.load()).management(), "no management endpoint by default");
        IllegalArgumentException seeded = assertThrows(IllegalArgumentException.class, () -> ClusterSettings.from(
                ConfigFactory.parseString("rlhf.cluster.seed-nodes = [\"pekko://rlhf@127.0.0.1:25520\"]")
                        .withFallback(bootstrap)));
        assertTrue(seeded.getMessage().contains("rlhf.cluster.seed-nodes"), seeded.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> ClusterSettings.from(
                ConfigFactory.parseMap(Map.of("rlhf.cluster.bootstrap", "dns")).withFallback(ConfigFactory.load())));
        assertEquals("rlhf.cluster.bootstrap must be seed-nodes or pekko-management but was \"dns\"",
                unknown.getMessage());
    }

    @Test
    void aKeyStoreThatCannotBeReadFailsTheNodeWithoutItsPassword(@TempDir Path dir) throws Exception {
        TestCertificates certificates = TestCertificates.make(dir, "node");
        Config config = ConfigFactory.parseMap(Map.of(
                        "rlhf.cluster.tls.key-store", certificates.keyStore("node").toString(),
                        "rlhf.cluster.tls.key-store-password", SECRET,
                        "rlhf.cluster.tls.trust-store", certificates.trustStore().toString(),
                        "rlhf.cluster.tls.trust-store-password", TestCertificates.PASSWORD,
                        "rlhf.cluster.token", SECRET))
                .withFallback(ConfigFactory.load());
        ClusterSettings settings = ClusterSettings.from(config);

        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> settings.checkNode(config, ClusterSettings.ROLLOUT_ROLE));

        assertTrue(refused.getMessage().startsWith("rlhf.cluster.tls.key-store " + certificates.keyStore("node")
                + " cannot be read with rlhf.cluster.tls.key-store-password"), refused.getMessage());
        assertFalse(refused.getMessage().contains(SECRET), refused.getMessage());
        assertFalse(settings.toString().contains(SECRET), "the settings show no secret: " + settings);
        assertTrue(settings.toString().contains("token"), "the settings say a token is set: " + settings);
    }

    @Test
    void aCoordinatorTheNetworkCanReachWithoutCredentialsIsRefusedBeforeTheRunStarts(@TempDir Path dir) {
        Config config = ConfigFactory.parseMap(TinyExperiments.keys(dir.resolve("run"), 1))
                .withValue("rlhf.cluster.enabled", ConfigValueFactory.fromAnyRef(true))
                .withValue("rlhf.cluster.hostname", ConfigValueFactory.fromAnyRef("0.0.0.0"))
                .withFallback(ConfigFactory.load());

        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> new ExperimentRunner(config, dir.resolve("no-policy"), TinyExperiments.quiet()));

        assertTrue(refused.getMessage().startsWith("rlhf.cluster.hostname = \"0.0.0.0\""), refused.getMessage());
        assertFalse(Files.exists(dir.resolve("run")), "no run directory was made");
    }
}
