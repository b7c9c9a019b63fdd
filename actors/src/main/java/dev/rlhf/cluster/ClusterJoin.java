package dev.rlhf.cluster;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/** Joining the cluster once a node's actor system runs. */
public final class ClusterJoin {
    private ClusterJoin() {}

    /**
     * With no seed nodes configured the node joins itself, forming a new cluster others can seed from; otherwise
     * Pekko joins the seed nodes on its own (and keeps trying until one answers).
     */
    public static void joinSelfWithoutSeeds(ActorSystem<?> system, ClusterSettings settings) {
        if (settings.seedNodes().isEmpty()) {
            Cluster cluster = Cluster.get(system);
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
        }
    }
}
