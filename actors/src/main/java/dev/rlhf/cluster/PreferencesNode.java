package dev.rlhf.cluster;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Starts a preferences node ({@code rlhf node --role preferences}): a cluster node with the preferences role that
 * holds the preference store of every run it serves ({@link RunStores}, under {@code
 * rlhf.cluster.preferences-node.store-root}) behind a gRPC PreferenceCollectorService, registered with the
 * Receptionist so the coordinator finds it. It needs no model.
 */
public final class PreferencesNode {
    private PreferencesNode() {}

    /**
     * Joins the cluster, starts the PreferenceCollectorService and registers it.
     *
     * @throws IOException if the service cannot bind its port
     */
    public static ClusterNode start(Config config) throws IOException {
        Path root = Path.of(config.getString("rlhf.cluster.preferences-node.store-root"));
        return ClusterNode.start(config, ClusterSettings.PREFERENCES_ROLE, NodeEndpoint.PREFERENCES_KEY,
                (system, cluster, owned) -> {
                    RunStores stores = new RunStores(config, root, system);
                    owned.push(stores);
                    return new PreferenceCollectorGrpcService(stores::collector, PreferenceCollectorGrpcService.PAGE,
                            system.scheduler(), cluster.callTimeout());
                });
    }
}
