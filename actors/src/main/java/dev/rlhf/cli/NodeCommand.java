package dev.rlhf.cli;

import com.typesafe.config.Config;
import dev.rlhf.cluster.ClusterNode;
import dev.rlhf.cluster.ClusterSettings;
import dev.rlhf.cluster.LearnerNode;
import dev.rlhf.cluster.PreferencesNode;
import dev.rlhf.cluster.RewardScorerNode;
import dev.rlhf.cluster.RolloutWorkerNode;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf node --role ROLE --config FILE}: runs one role of a cluster-mode experiment in this JVM until stopped.
 * A node that the cluster downs, or that leaves after its coordinator has gone, is replaced by a fresh one that
 * joins the seed nodes again, so one process serves run after run.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf node --role rollout --config infra/cluster/local.conf",
            "  ./rlhf node --role reward --config infra/cluster/local.conf",
            "  ./rlhf node --role preferences --config infra/cluster/local.conf",
            "  ./rlhf node --role learner --config infra/cluster/local.conf"},
        description = "Join the Pekko cluster of a cluster-mode experiment (keys under rlhf.cluster) as a node of "
                + "one role: rollout (generates the rollouts' completions: RolloutService), reward (scores them: "
                + "RewardScorerService; the coordinator needs rlhf.cluster.reward-scoring = remote) or preferences "
                + "(the runs' preference stores and simulated annotators: PreferenceCollectorService; the "
                + "coordinator needs rlhf.cluster.preference-store = remote) or learner (the run's policy updates and "
                + "checkpoints, sending each new weight version to the rollout nodes: LearnerService; the coordinator "
                + "needs rlhf.cluster.learner = remote). The node serves "
                + "its gRPC service and registers it with the Receptionist, until SIGTERM; when the coordinator "
                + "leaves or the cluster downs the node, a fresh node joins again. A node bound to an address other "
                + "than loopback needs rlhf.cluster.tls (mutual TLS) or rlhf.cluster.token.")
final class NodeCommand implements Callable<Integer> {

    /** The roles a node can play. */
    enum Role {
        rollout("rollout worker", ClusterSettings.ROLLOUT_ROLE),
        reward("reward node", ClusterSettings.REWARD_ROLE),
        preferences("preferences node", ClusterSettings.PREFERENCES_ROLE),
        learner("learner node", ClusterSettings.LEARNER_ROLE);

        final String description;
        final String clusterRole;

        Role(String description, String clusterRole) {
            this.description = description;
            this.clusterRole = clusterRole;
        }
    }

    @Option(names = "--role", required = true, description = "rollout, reward, preferences or learner.")
    private Role role;

    @Option(names = "--config", required = true, description = "HOCON file (the experiment's own works: the node "
            + "reads rlhf.cluster and the policy checkpoint from it).")
    private Path file;

    @Override
    public Integer call() throws Exception {
        return run(CliContext.readConfigFile(file), role);
    }

    /** Runs nodes of {@code role}, one after another, until one stops on SIGTERM. */
    static int run(Config config, Role role) throws Exception {
        // exposed without credentials, or with a bad key store: said before the embedded policy is built
        ClusterSettings.from(config).checkNode(config, role.clusterRole);
        String checkpoint = config.getString("rlhf.cluster.worker.policy-checkpoint");
        Path policy = role == Role.preferences ? null
                : checkpoint.isEmpty() ? CliContext.experimentPolicy(config) : Path.of(checkpoint);
        boolean again = true;
        while (again) {
            try (ClusterNode node = switch (role) {
                case rollout -> RolloutWorkerNode.start(config, policy);
                case reward -> RewardScorerNode.start(config, policy);
                case preferences -> PreferencesNode.start(config);
                case learner -> LearnerNode.start(config, policy);
            }) {
                System.out.println(role.description + " grpc listening on " + node.address().host() + ":"
                        + node.address().port());
                System.out.println("cluster node " + node.address().node() + " with role " + node.role());
                System.out.flush();
                again = node.awaitTermination();
            }
            if (again) {
                System.err.println("the node left the cluster (or was downed): starting a fresh node to join again");
            }
        }
        return 0;
    }
}
