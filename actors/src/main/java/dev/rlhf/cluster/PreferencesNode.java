package dev.rlhf.cluster;

import com.typesafe.config.Config;
import io.grpc.Server;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Starts a preferences node ({@code rlhf node --role preferences}): a cluster node with the preferences role that
 * holds the preference store of every run it serves ({@link RunStores}, under {@code
 * rlhf.cluster.preferences-node.store-root}) behind a gRPC PreferenceCollectorService, registered with the Receptionist
 * so the coordinator finds it. It needs no model.
 */
public final class PreferencesNode {
    private PreferencesNode() {}

    /**
     * Joins the cluster, starts the PreferenceCollectorService and registers it.
     *
     * @throws IOException if the service cannot bind its port
     */
    public static ClusterNode start(Config config) throws IOException {
        ClusterSettings cluster = ClusterSettings.from(config);
        cluster.checkNode(config, ClusterSettings.PREFERENCES_ROLE);
        Path root = Path.of(config.getString("rlhf.cluster.preferences-node.store-root"));
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), ClusterSettings.SYSTEM_NAME,
                cluster.nodeConfig(config, ClusterSettings.PREFERENCES_ROLE));
        RunStores stores = new RunStores(config, root, system);
        try {
            ClusterJoin.joinSelfWithoutSeeds(system, cluster);
            Server server = ClusterNode.serve(cluster, new PreferenceCollectorGrpcService(stores::collector,
                    PreferenceCollectorGrpcService.PAGE, system.scheduler(), cluster.callTimeout()));
            return ClusterNode.register(ClusterSettings.PREFERENCES_ROLE, NodeEndpoint.PREFERENCES_KEY, cluster,
                    system, server, List.of(stores));
        } catch (IOException | RuntimeException e) {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().join();
            stores.close();
            throw e;
        }
    }
}
