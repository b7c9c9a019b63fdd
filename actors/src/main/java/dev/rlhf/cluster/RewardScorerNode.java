package dev.rlhf.cluster;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import dev.rlhf.actors.RewardScorerActor;
import dev.rlhf.policy.DeviceChoice;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import io.grpc.Server;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Starts a reward node ({@code rlhf node --role reward}): a cluster node with the reward role that runs one
 * {@link RewardScorerActor} (restarted when it fails, holding no version until it is given one again) behind a
 * gRPC RewardScorerService, registered with the Receptionist so the coordinator finds it. It reads only the
 * tokenizer of the policy checkpoint: the reward models themselves arrive by weight sync.
 */
public final class RewardScorerNode {
    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";

    private RewardScorerNode() {}

    /**
     * Loads the tokenizer, joins the cluster, starts the RewardScorerService and registers it.
     *
     * @param policyDir the SFT checkpoint the coordinator tunes, whose tokenizer the reward models share
     * @throws IOException if the service cannot bind its port
     */
    public static ClusterNode start(Config config, Path policyDir) throws IOException {
        ClusterSettings cluster = ClusterSettings.from(config);
        cluster.checkNode(config, ClusterSettings.REWARD_ROLE);
        Engine.getInstance(); // loads libtorch, which the thread setting below goes to
        JniUtils.setNumThreads(cluster.workerIntraOpThreads());
        NDManager manager = NDManager.newBaseManager(DeviceChoice.parse(config.getString("rlhf.device")).resolve());
        TextTokenizer tokenizer = null;
        ActorSystem<Void> system = null;
        try {
            tokenizer = TextTokenizer.load(policyDir);
            system = ActorSystem.create(Behaviors.empty(), ClusterSettings.SYSTEM_NAME,
                    cluster.nodeConfig(config, ClusterSettings.REWARD_ROLE));
            ActorRef<RewardScorerActor.Command> scorer = system.systemActorOf(
                    Behaviors.supervise(RewardScorerActor.create()).onFailure(SupervisorStrategy.restart()),
                    "reward-scorer", DispatcherSelector.fromConfig(TENSOR_DISPATCHER));
            ClusterJoin.joinSelfWithoutSeeds(system, cluster);
            RewardScorerGrpcService service = new RewardScorerGrpcService(scorer, tokenizer, manager,
                    cluster.maxWeightsBytes(), cluster.maxWeightsHeaderBytes(), system.scheduler(),
                    cluster.callTimeout());
            Server server = ClusterNode.serve(cluster, service);
            return ClusterNode.register(ClusterSettings.REWARD_ROLE, NodeEndpoint.REWARD_KEY, cluster, system,
                    server, List.of(service::close, tokenizer, manager));
        } catch (IOException | RuntimeException e) {
            if (system != null) {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().join();
            }
            if (tokenizer != null) {
                tokenizer.close();
            }
            manager.close();
            throw e;
        }
    }
}
