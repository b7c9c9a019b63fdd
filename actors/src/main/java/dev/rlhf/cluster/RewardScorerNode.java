package dev.rlhf.cluster;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import dev.rlhf.actors.RewardScorerActor;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.pekko.actor.typed.ActorRef;
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
     * @throws IOException if the tokenizer cannot be read or the service cannot bind its port
     */
    public static ClusterNode start(Config config, Path policyDir) throws IOException {
        return ClusterNode.start(config, ClusterSettings.REWARD_ROLE, NodeEndpoint.REWARD_KEY,
                (system, cluster, owned) -> {
                    NDManager manager = NodeDevice.manager(config, cluster);
                    owned.push(manager);
                    TextTokenizer tokenizer = TextTokenizer.load(policyDir);
                    owned.push(tokenizer);
                    ActorRef<RewardScorerActor.Command> scorer = system.systemActorOf(
                            Behaviors.supervise(RewardScorerActor.create()).onFailure(SupervisorStrategy.restart()),
                            "reward-scorer", DispatcherSelector.fromConfig(TENSOR_DISPATCHER));
                    RewardScorerGrpcService service = new RewardScorerGrpcService(scorer, tokenizer, manager,
                            cluster.maxWeightsBytes(), cluster.maxWeightsHeaderBytes(), system.scheduler(),
                            cluster.callTimeout());
                    owned.push(service::close);
                    return service;
                });
    }
}
