package dev.rlhf.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Cluster mode, read from {@code rlhf.cluster} (see reference.conf for every key and its default).
 *
 * @param remoteRewardScoring whether the coordinator scores on reward nodes rather than in its own JVM
 * @param remotePreferences whether the run's preference store lives on the preferences node
 * @param remoteLearner whether the learner node updates the policy rather than the coordinator's JVM
 * @param bootstrap whether the node forms or joins the cluster through Pekko Management's cluster bootstrap
 *     (contact points from Pekko Discovery) rather than the seed nodes
 * @param managementPort the port of Pekko Management's HTTP endpoint (health checks, bootstrap contact point); -1
 *     when it is not started
 * @param maxWeightsBytes the largest weight version a node takes in
 * @param weightChunkBytes the size of the chunks weight versions travel in
 * @param weightSyncAttempts the most SyncWeights calls that send one version to one node
 * @param maxWeightsHeaderBytes longest safetensors JSON header a node reads from a weight version
 * @param workerBindHost where a worker node's RolloutService binds; empty binds the cluster hostname
 * @param workerPort TCP port of a worker node's RolloutService; 0 picks a free one
 * @param workerPolicyCheckpoint the SFT policy a worker node loads; empty takes the experiment's
 * @param credentials what the node proves itself with to the others: TLS, a token, both or neither
 */
public record ClusterSettings(
        boolean enabled,
        String hostname,
        int port,
        List<String> seedNodes,
        int localRolloutWorkers,
        boolean remoteRewardScoring,
        boolean remotePreferences,
        boolean remoteLearner,
        boolean bootstrap,
        int managementPort,
        Duration workerWaitTimeout,
        Duration endpointTimeout,
        Duration callTimeout,
        int maxWeightsBytes,
        int weightChunkBytes,
        int weightSyncAttempts,
        int maxWeightsHeaderBytes,
        String workerBindHost,
        int workerPort,
        String workerPolicyCheckpoint,
        int workerIntraOpThreads,
        ClusterCredentials credentials) {

    /** The actor system name every node of the cluster shares. */
    public static final String SYSTEM_NAME = "rlhf";
    /** Cluster role of the experiment JVM. */
    public static final String COORDINATOR_ROLE = "coordinator";
    /** The largest weight chunk: a chunk is one gRPC message, and gRPC refuses messages of 2 GiB. */
    private static final int MAX_WEIGHT_CHUNK_BYTES = 256 << 20;
    /** Room in a gRPC message for everything but a weight chunk's data, and for the other calls' messages. */
    private static final int MESSAGE_HEADROOM_BYTES = 4 << 20;

    /** Cluster role of a rollout worker node. */
    public static final String ROLLOUT_ROLE = "rollout";
    /** Cluster role of a reward node. */
    public static final String REWARD_ROLE = "reward";
    /** Cluster role of a preferences node. */
    public static final String PREFERENCES_ROLE = "preferences";
    /** Cluster role of the learner node. */
    public static final String LEARNER_ROLE = "learner";

    public ClusterSettings {
        seedNodes = List.copyOf(seedNodes);
        Objects.requireNonNull(credentials, "credentials");
        requireNonNegative(port, "port");
        requireNonNegative(localRolloutWorkers, "local-rollout-workers");
        if (bootstrap && !seedNodes.isEmpty()) {
            throw new IllegalArgumentException("rlhf.cluster.bootstrap = pekko-management finds the other nodes "
                    + "through Pekko Discovery: leave rlhf.cluster.seed-nodes empty (it is " + seedNodes + ")");
        }
        requirePositive(workerWaitTimeout, "worker-wait-timeout");
        requirePositive(endpointTimeout, "endpoint-timeout");
        requirePositive(callTimeout, "call-timeout");
        if (maxWeightsBytes <= 0) {
            throw new IllegalArgumentException("rlhf.cluster.max-weights-bytes must be positive but was "
                    + maxWeightsBytes);
        }
        if (weightChunkBytes <= 0 || weightChunkBytes > MAX_WEIGHT_CHUNK_BYTES) {
            throw new IllegalArgumentException("rlhf.cluster.weight-chunk-bytes must be in [1, "
                    + MAX_WEIGHT_CHUNK_BYTES + "] but was " + weightChunkBytes);
        }
        if (weightSyncAttempts <= 0) {
            throw new IllegalArgumentException("rlhf.cluster.weight-sync-attempts must be positive but was "
                    + weightSyncAttempts);
        }
        if (maxWeightsHeaderBytes <= 0) {
            throw new IllegalArgumentException("rlhf.cluster.max-weights-header-bytes must be positive but was "
                    + maxWeightsHeaderBytes);
        }
        requireNonNegative(workerPort, "worker.port");
        if (workerIntraOpThreads <= 0) {
            throw new IllegalArgumentException("rlhf.cluster.worker.intra-op-threads must be positive but was "
                    + workerIntraOpThreads);
        }
    }

    public static ClusterSettings from(Config config) {
        Config c = config.getConfig("rlhf.cluster");
        boolean bootstrap = bootstrap(c.getString("bootstrap"));
        return new ClusterSettings(
                c.getBoolean("enabled"),
                c.getString("hostname"),
                c.getInt("port"),
                c.getStringList("seed-nodes"),
                c.getInt("local-rollout-workers"),
                localOrRemote(c.getString("reward-scoring"), "reward-scoring"),
                localOrRemote(c.getString("preference-store"), "preference-store"),
                localOrRemote(c.getString("learner"), "learner"),
                bootstrap,
                c.getBoolean("management.enabled") || bootstrap ? c.getInt("management.port") : -1,
                c.getDuration("worker-wait-timeout"),
                c.getDuration("endpoint-timeout"),
                c.getDuration("call-timeout"),
                messageBytes(c.getBytes("max-weights-bytes"), "max-weights-bytes"),
                messageBytes(c.getBytes("weight-chunk-bytes"), "weight-chunk-bytes"),
                c.getInt("weight-sync-attempts"),
                messageBytes(c.getBytes("max-weights-header-bytes"), "max-weights-header-bytes"),
                c.getString("worker.bind-host"),
                c.getInt("worker.port"),
                c.getString("worker.policy-checkpoint"),
                c.getInt("worker.intra-op-threads"),
                ClusterCredentials.from(c));
    }

    /**
     * Refuses a node that the network could reach with nothing to authenticate it: in {@code role}, a node whose
     * Artery hostname ({@code rlhf.cluster.hostname}, and {@code pekko.remote.artery.bind.hostname} if set) or, on a
     * worker node, whose RolloutService bind address is not a loopback address needs {@code rlhf.cluster.tls} or
     * {@code rlhf.cluster.token}. Reads the TLS stores, if any, so that a bad one fails the node as it starts.
     *
     * @param config the node's whole configuration (for Pekko's own bind key)
     * @throws IllegalArgumentException in one line naming the address's key and the keys to set
     */
    public void checkNode(Config config, String role) {
        credentials.check();
        if (credentials.tls() || credentials.token()) {
            return;
        }
        Map<String, String> addresses = new LinkedHashMap<>();
        addresses.put("rlhf.cluster.hostname", hostname);
        String arteryBind = "pekko.remote.artery.bind.hostname";
        if (config.hasPath(arteryBind) && !config.getString(arteryBind).isEmpty()) {
            addresses.put(arteryBind, config.getString(arteryBind));
        }
        if (!role.equals(COORDINATOR_ROLE) && !workerBindHost.isEmpty()) {
            addresses.put("rlhf.cluster.worker.bind-host", workerBindHost);
        }
        for (Map.Entry<String, String> address : addresses.entrySet()) {
            if (!isLoopback(address.getValue())) {
                throw new IllegalArgumentException(address.getKey() + " = \"" + address.getValue() + "\" is not a "
                        + "loopback address, and a cluster node the network can reach needs credentials: set "
                        + "rlhf.cluster.tls (key-store, key-store-password, trust-store, trust-store-password) or "
                        + "rlhf.cluster.token (see infra/README.md)");
            }
        }
    }

    /** Whether every address {@code host} names is a loopback one; a name that does not resolve is not. */
    private static boolean isLoopback(String host) {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (!address.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * {@code config} with the Pekko settings of a cluster node in {@code role}: the cluster provider, Artery on
     * {@code hostname:port} (TCP, or TLS over TCP with mutual authentication when {@code rlhf.cluster.tls} is set),
     * the seed nodes (none: the node joins itself and forms a new cluster).
     */
    public Config nodeConfig(Config config, String role) {
        return ConfigFactory.parseMap(Map.of(
                        "pekko.actor.provider", "cluster",
                        "pekko.remote.artery.canonical.hostname", hostname,
                        "pekko.remote.artery.canonical.port", port,
                        "pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(role)),
                        "pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedNodes),
                        "pekko.management.http.hostname", hostname,
                        "pekko.management.http.port", Math.max(managementPort, 0)))
                .withFallback(credentials.arteryConfig())
                .withFallback(config);
    }

    /** The largest gRPC message a node or the coordinator takes in: a weight chunk with room around it. */
    public int grpcMessageBytes() {
        return weightChunkBytes + MESSAGE_HEADROOM_BYTES;
    }

    /** Whether Pekko Management's HTTP endpoint runs on the node. */
    public boolean management() {
        return managementPort >= 0;
    }

    private static boolean bootstrap(String value) {
        return switch (value) {
            case "seed-nodes" -> false;
            case "pekko-management" -> true;
            default -> throw new IllegalArgumentException(
                    "rlhf.cluster.bootstrap must be seed-nodes or pekko-management but was \"" + value + "\"");
        };
    }

    private static boolean localOrRemote(String value, String key) {
        return switch (value) {
            case "local" -> false;
            case "remote" -> true;
            default -> throw new IllegalArgumentException(
                    "rlhf.cluster." + key + " must be local or remote but was \"" + value + "\"");
        };
    }

    /** gRPC caps a message, and Java an array, at what an int counts. */
    private static int messageBytes(long bytes, String key) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rlhf.cluster." + key + " must be at most "
                    + Integer.MAX_VALUE + " (gRPC's limit) but was " + bytes);
        }
        return (int) bytes;
    }

    private static void requireNonNegative(int value, String key) {
        if (value < 0) {
            throw new IllegalArgumentException("rlhf.cluster." + key + " must not be negative but was " + value);
        }
    }

    private static void requirePositive(Duration value, String key) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("rlhf.cluster." + key + " must be positive but was " + value);
        }
    }
}
