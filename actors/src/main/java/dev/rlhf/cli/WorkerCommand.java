package dev.rlhf.cli;

import com.typesafe.config.Config;
import dev.rlhf.cluster.ClusterSettings;
import dev.rlhf.cluster.RolloutWorkerNode;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf worker --config FILE}: runs a rollout worker node of a cluster-mode experiment until stopped. A node
 * that the cluster downs, or that leaves after its coordinator has gone, is replaced by a fresh one that joins the
 * seed nodes again, so one worker process serves run after run.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf worker --config infra/cluster/local.conf"},
        description = "Join the Pekko cluster of a cluster-mode experiment (keys under rlhf.cluster) as a rollout "
                + "worker node: serve RolloutService over gRPC and register it with the Receptionist, until SIGTERM. "
                + "When the coordinator leaves or the cluster downs the node, a fresh node joins again. A node bound to "
                + "an address other than loopback needs rlhf.cluster.tls (mutual TLS) or rlhf.cluster.token.")
final class WorkerCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, description = "HOCON file (the experiment's own works: the worker "
            + "reads rlhf.cluster and the policy checkpoint from it).")
    private Path file;

    @Override
    public Integer call() throws Exception {
        Config config = CliContext.readConfigFile(file);
        // exposed without credentials, or with a bad key store: said before the embedded policy is built
        ClusterSettings.from(config).checkNode(config, ClusterSettings.ROLLOUT_ROLE);
        String checkpoint = config.getString("rlhf.cluster.worker.policy-checkpoint");
        Path policy = checkpoint.isEmpty() ? CliContext.experimentPolicy(config) : Path.of(checkpoint);
        boolean again = true;
        while (again) {
            try (RolloutWorkerNode node = RolloutWorkerNode.start(config, policy)) {
                System.out.println("rollout worker grpc listening on " + node.address().host() + ":"
                        + node.address().port());
                System.out.println("cluster node " + node.address().node() + " with role rollout");
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
