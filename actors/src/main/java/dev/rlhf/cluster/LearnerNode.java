package dev.rlhf.cluster;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import dev.rlhf.policy.Policy;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Starts a learner node ({@code rlhf node --role learner}): a cluster node with the learner role that holds one
 * run's learner at a time behind a gRPC LearnerService ({@link LearnerGrpcService}), registered with the
 * Receptionist so the coordinator finds it. It loads the SFT policy (the reference, and the start of a fresh run)
 * and writes each run's checkpoints under {@code rlhf.cluster.learner-node.checkpoint-root}.
 */
public final class LearnerNode {
    private LearnerNode() {}

    /**
     * Loads the policy, joins the cluster, starts the LearnerService and registers it.
     *
     * @param policyDir the SFT checkpoint, the same the coordinator tunes (OpenRun checks its digest)
     * @throws IOException if the service cannot bind its port
     */
    public static ClusterNode start(Config config, Path policyDir) throws IOException {
        Path root = Path.of(config.getString("rlhf.cluster.learner-node.checkpoint-root"));
        return ClusterNode.start(config, ClusterSettings.LEARNER_ROLE, NodeEndpoint.LEARNER_KEY,
                (system, cluster, owned) -> {
                    NDManager manager = NodeDevice.manager(config, cluster);
                    owned.push(manager);
                    Policy policy = Policy.load(policyDir, manager);
                    owned.push(policy);
                    LearnerGrpcService service = new LearnerGrpcService(system, policy, manager, root, cluster);
                    owned.push(service);
                    return service;
                });
    }
}
