package dev.rlhf.cluster;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Leave;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Runs on a rollout worker node: once the cluster has had a coordinator and has none left (its run ended and it
 * left, or it was removed), the node leaves the cluster too, so that {@code rlhf worker} starts it over to join
 * the seed nodes again and serve the next run. Without it a worker would stay in a cluster no coordinator joins.
 */
final class CoordinatorWatch {
    private CoordinatorWatch() {}

    static Behavior<ClusterEvent.MemberEvent> create() {
        return Behaviors.setup(context -> {
            Cluster cluster = Cluster.get(context.getSystem());
            cluster.subscriptions().tell(Subscribe.create(context.getSelf(), ClusterEvent.MemberEvent.class));
            Set<Address> coordinators = new HashSet<>();
            return Behaviors.receive(ClusterEvent.MemberEvent.class)
                    .onMessage(ClusterEvent.MemberUp.class, up -> {
                        if (up.member().hasRole(ClusterSettings.COORDINATOR_ROLE)) {
                            coordinators.add(up.member().address());
                        }
                        return Behaviors.same();
                    })
                    .onMessage(ClusterEvent.MemberRemoved.class, removed -> {
                        if (coordinators.remove(removed.member().address()) && coordinators.isEmpty()) {
                            context.getLog().info("the coordinator {} has left the cluster; leaving it to join again "
                                    + "for the next run", removed.member().address());
                            cluster.manager().tell(new Leave(cluster.selfMember().address()));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(ClusterEvent.MemberEvent.class, other -> Behaviors.same())
                    .build();
        });
    }
}
