package dev.rlhf.cluster;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Runs on the coordinator's node and downs every rollout worker or reward node the failure detector marks
 * unreachable. Such a node holds no state the run needs (its chunks are retried elsewhere, and it gets the current
 * weights or reward model when it joins again), so removing it at once is safe; it keeps the cluster converging, so
 * new nodes can join while a dead one would otherwise stay unreachable for ever. Only nodes with the rollout or
 * reward role are downed, never the coordinator.
 */
public final class UnreachableWorkerDowning {
    private UnreachableWorkerDowning() {}

    public static Behavior<ClusterEvent.ReachabilityEvent> create() {
        return Behaviors.setup(context -> {
            Cluster cluster = Cluster.get(context.getSystem());
            cluster.subscriptions().tell(Subscribe.create(context.getSelf(), ClusterEvent.ReachabilityEvent.class));
            return Behaviors.receive(ClusterEvent.ReachabilityEvent.class)
                    .onMessage(ClusterEvent.UnreachableMember.class, unreachable -> {
                        if (unreachable.member().hasRole(ClusterSettings.ROLLOUT_ROLE)
                                || unreachable.member().hasRole(ClusterSettings.REWARD_ROLE)) {
                            context.getLog().warn("{} node {} is unreachable; downing it",
                                    unreachable.member().getRoles().contains(ClusterSettings.REWARD_ROLE)
                                            ? "reward" : "rollout worker", unreachable.member().address());
                            cluster.manager().tell(new Down(unreachable.member().address()));
                        }
                        return Behaviors.same();
                    })
                    .build();
        });
    }
}
