package dev.rlhf.cluster;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import dev.rlhf.actors.LocalPolicyReplica;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.actors.WeightsBoard;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.model.WeightsSnapshot;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Starts a rollout worker node ({@code rlhf node --role rollout}, alias {@code rlhf worker}): a cluster node with
 * the rollout role that runs one {@link RolloutWorker} (under restart supervision, as in the experiment JVM) behind
 * a gRPC RolloutService, registered with the Receptionist so the coordinator finds it.
 */
public final class RolloutWorkerNode {
    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";

    private RolloutWorkerNode() {}

    /**
     * Loads the policy, joins the cluster, starts the RolloutService and registers it.
     *
     * @param policyDir the SFT checkpoint, the same the coordinator tunes
     * @throws IOException if the service cannot bind its port
     */
    public static ClusterNode start(Config config, Path policyDir) throws IOException {
        return ClusterNode.start(config, ClusterSettings.ROLLOUT_ROLE, NodeEndpoint.ROLLOUT_KEY,
                (system, cluster, owned) -> {
                    NDManager manager = NodeDevice.manager(config, cluster);
                    owned.push(manager);
                    Policy policy = Policy.load(policyDir, manager);
                    owned.push(policy);
                    WeightsBoard board = new WeightsBoard(WeightsSnapshot.of(policy.model().weights(), 0));
                    Behavior<RolloutWorker.Command> supervised = Behaviors.supervise(RolloutWorker.create(0,
                                    LocalPolicyReplica.factory(policy.model().weights(), policy.tokenizer(), board,
                                            manager)))
                            .onFailure(SupervisorStrategy.restart());
                    ActorRef<RolloutWorker.Command> worker = system.systemActorOf(supervised, "rollout-worker",
                            DispatcherSelector.fromConfig(TENSOR_DISPATCHER));
                    return new RolloutGrpcService(worker, board, policy.model().config(), cluster.maxWeightsBytes(),
                            cluster.maxWeightsHeaderBytes(), system.scheduler(), cluster.callTimeout());
                });
    }
}
