package dev.rlhf.cluster;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import dev.rlhf.actors.LocalPolicyReplica;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.actors.WeightsBoard;
import dev.rlhf.policy.DeviceChoice;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.model.WeightsSnapshot;
import io.grpc.Server;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
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
        ClusterSettings cluster = ClusterSettings.from(config);
        cluster.checkNode(config, ClusterSettings.ROLLOUT_ROLE);
        Engine.getInstance(); // loads libtorch, which the thread setting below goes to
        JniUtils.setNumThreads(cluster.workerIntraOpThreads());
        NDManager manager = NDManager.newBaseManager(DeviceChoice.parse(config.getString("rlhf.device")).resolve());
        Policy policy = null;
        ActorSystem<Void> system = null;
        try {
            policy = Policy.load(policyDir, manager);
            WeightsBoard board = new WeightsBoard(WeightsSnapshot.of(policy.model().weights(), 0));
            system = ActorSystem.create(Behaviors.empty(), ClusterSettings.SYSTEM_NAME,
                    cluster.nodeConfig(config, ClusterSettings.ROLLOUT_ROLE));
            Behavior<RolloutWorker.Command> supervised = Behaviors.supervise(RolloutWorker.create(0,
                            LocalPolicyReplica.factory(policy.model().weights(), policy.tokenizer(), board, manager)))
                    .onFailure(SupervisorStrategy.restart());
            ActorRef<RolloutWorker.Command> worker = system.systemActorOf(supervised, "rollout-worker",
                    DispatcherSelector.fromConfig(TENSOR_DISPATCHER));
            ClusterJoin.joinSelfWithoutSeeds(system, cluster);
            Server server = ClusterNode.serve(cluster, new RolloutGrpcService(worker, board, policy.model().config(),
                    cluster.maxWeightsBytes(), cluster.maxWeightsHeaderBytes(), system.scheduler(),
                    cluster.callTimeout()));
            return ClusterNode.register(ClusterSettings.ROLLOUT_ROLE, NodeEndpoint.ROLLOUT_KEY, cluster, system,
                    server, List.of(policy, manager));
        } catch (IOException | RuntimeException e) {
            if (system != null) {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().join();
            }
            if (policy != null) {
                policy.close();
            }
            manager.close();
            throw e;
        }
    }
}
