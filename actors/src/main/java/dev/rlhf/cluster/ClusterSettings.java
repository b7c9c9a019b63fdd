package dev.rlhf.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Cluster mode, read from {@code rlhf.cluster} (see reference.conf for every key and its default).
 *
 * @param maxWeightsHeaderBytes longest safetensors JSON header a worker node reads from a LoadWeights call
 * @param workerBindHost where a worker node's RolloutService binds; empty binds the cluster hostname
 * @param workerPort TCP port of a worker node's RolloutService; 0 picks a free one
 * @param workerPolicyCheckpoint the SFT policy a worker node loads; empty takes the experiment's
 */
public record ClusterSettings(
        boolean enabled,
        String hostname,
        int port,
        List<String> seedNodes,
        int localRolloutWorkers,
        Duration workerWaitTimeout,
        Duration endpointTimeout,
        Duration callTimeout,
        int maxWeightsMessageBytes,
        int maxWeightsHeaderBytes,
        String workerBindHost,
        int workerPort,
        String workerPolicyCheckpoint,
        int workerIntraOpThreads) {

    /** The actor system name every node of the cluster shares. */
    public static final String SYSTEM_NAME = "rlhf";
    /** Cluster role of the experiment JVM. */
    public static final String COORDINATOR_ROLE = "coordinator";
    /** Cluster role of a rollout worker node. */
    public static final String ROLLOUT_ROLE = "rollout";

    public ClusterSettings {
        seedNodes = List.copyOf(seedNodes);
        requireNonNegative(port, "port");
        requireNonNegative(localRolloutWorkers, "local-rollout-workers");
        requirePositive(workerWaitTimeout, "worker-wait-timeout");
        requirePositive(endpointTimeout, "endpoint-timeout");
        requirePositive(callTimeout, "call-timeout");
        if (maxWeightsMessageBytes <= 0) {
            throw new IllegalArgumentException("rlhf.cluster.max-weights-message-bytes must be positive but was "
                    + maxWeightsMessageBytes);
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
        return new ClusterSettings(
                c.getBoolean("enabled"),
                c.getString("hostname"),
                c.getInt("port"),
                c.getStringList("seed-nodes"),
                c.getInt("local-rollout-workers"),
                c.getDuration("worker-wait-timeout"),
                c.getDuration("endpoint-timeout"),
                c.getDuration("call-timeout"),
                messageBytes(c.getBytes("max-weights-message-bytes"), "max-weights-message-bytes"),
                messageBytes(c.getBytes("max-weights-header-bytes"), "max-weights-header-bytes"),
                c.getString("worker.bind-host"),
                c.getInt("worker.port"),
                c.getString("worker.policy-checkpoint"),
                c.getInt("worker.intra-op-threads"));
    }

    /**
     * {@code config} with the Pekko settings of a cluster node in {@code role}: the cluster provider, Artery TCP on
     * {@code hostname:port}, the seed nodes (none: the node joins itself and forms a new cluster).
     */
    public Config nodeConfig(Config config, String role) {
        return ConfigFactory.parseMap(Map.of(
                        "pekko.actor.provider", "cluster",
                        "pekko.remote.artery.transport", "tcp",
                        "pekko.remote.artery.canonical.hostname", hostname,
                        "pekko.remote.artery.canonical.port", port,
                        "pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(role)),
                        "pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedNodes)))
                .withFallback(config);
    }

    /** gRPC caps a message, and so whatever is in it, at what an int counts. */
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
