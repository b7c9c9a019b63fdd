package dev.rlhf.cluster;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/** Joining the cluster once a node's actor system runs. */
public final class ClusterJoin {
    private ClusterJoin() {}

    /**
     * Starts Pekko Management's HTTP endpoint when the node runs one ({@code rlhf.cluster.management}: its health
     * checks, and the contact point other nodes' bootstrap probes), then joins: through Pekko Management's cluster
     * bootstrap ({@code rlhf.cluster.bootstrap = pekko-management}: the contact points Pekko Discovery lists agree on
     * one to form the cluster, or join the cluster one of them is in); else with no seed nodes configured the node
     * joins itself, forming a new cluster others can seed from; otherwise Pekko joins the seed nodes on its own (and
     * keeps trying until one answers).
     */
    public static void join(ActorSystem<?> system, ClusterSettings settings) {
        if (settings.management()) {
            PekkoManagement.get(system.classicSystem()).start().whenComplete((uri, failure) -> {
                if (failure != null) { // the health checks and bootstrap's contact point are then missing
                    system.log().error("Pekko Management's endpoint did not start", failure);
                }
            });
        }
        if (settings.bootstrap()) {
            ClusterBootstrap.get(system.classicSystem()).start();
        } else if (settings.seedNodes().isEmpty()) {
            Cluster cluster = Cluster.get(system);
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
        }
    }
}
