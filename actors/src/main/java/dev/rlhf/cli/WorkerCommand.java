package dev.rlhf.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf worker --config FILE}: the same as {@code rlhf node --role rollout --config FILE}, kept for the
 * scripts that use it.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf worker --config infra/cluster/local.conf"},
        description = "The same as node --role rollout: join the Pekko cluster of a cluster-mode experiment (keys "
                + "under rlhf.cluster) as a rollout worker node: serve RolloutService over gRPC and register it with "
                + "the Receptionist, until SIGTERM. When the coordinator leaves or the cluster downs the node, a fresh "
                + "node joins again. A node bound to an address other than loopback needs rlhf.cluster.tls (mutual "
                + "TLS) or rlhf.cluster.token.")
final class WorkerCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, description = "HOCON file (the experiment's own works: the worker "
            + "reads rlhf.cluster and the policy checkpoint from it).")
    private Path file;

    @Override
    public Integer call() throws Exception {
        return NodeCommand.run(CliContext.readConfigFile(file), NodeCommand.Role.rollout);
    }
}
