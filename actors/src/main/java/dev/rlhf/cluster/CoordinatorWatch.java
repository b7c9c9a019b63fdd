package dev.rlhf.cluster;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Leave;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Runs on a role node (rollout, reward): once the cluster has had a coordinator and has none left (its run ended
 * and it left, or it was removed), the node leaves the cluster too, so that {@code rlhf node} starts it over to join
 * the seed nodes again and serve the next run. Without it a node would stay in a cluster no coordinator joins.
 *
 * <p>A coordinator that became unreachable while leaving (its JVM ended before the leave completed) is downed
 * here: it announced it was going, and otherwise it would stay unreachable for ever and block the cluster. A
 * coordinator unreachable for any other reason (it crashed, or a partition) is the split-brain resolver's: after
 * its stable-after, the side without the coordinator downs itself (see reference.conf), with the same effect.
 */
final class CoordinatorWatch {
    private CoordinatorWatch() {}

    static Behavior<ClusterEvent.ClusterDomainEvent> create() {
        return Behaviors.setup(context -> {
            Cluster cluster = Cluster.get(context.getSystem());
            cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(),
                    ClusterEvent.MemberEvent.class));
            cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(),
                    ClusterEvent.ReachabilityEvent.class));
            Set<Address> coordinators = new HashSet<>();
            return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
                    .onMessage(ClusterEvent.MemberUp.class, up -> {
                        if (isCoordinator(up.member())) {
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
                    .onMessage(ClusterEvent.UnreachableMember.class, unreachable -> {
                        Member member = unreachable.member();
                        if (isCoordinator(member) && (member.status() == MemberStatus.leaving()
                                || member.status() == MemberStatus.exiting())) {
                            context.getLog().info("the coordinator {} ended before its leave completed; downing it",
                                    member.address());
                            cluster.manager().tell(new Down(member.address()));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(ClusterEvent.ClusterDomainEvent.class, other -> Behaviors.same())
                    .build();
        });
    }

    private static boolean isCoordinator(Member member) {
        return member.hasRole(ClusterSettings.COORDINATOR_ROLE);
    }
}
