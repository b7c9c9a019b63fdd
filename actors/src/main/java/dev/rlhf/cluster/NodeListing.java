package dev.rlhf.cluster;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One role's nodes as the Receptionist lists them, for the actor that reaches them over gRPC: which are listed
 * (reachable ones only: an unreachable node is as good as gone until it is reachable again), which are being asked
 * for their service address, and which were dropped (after a failed call, or no address): a dropped node is not
 * asked again until it registers anew (a restarted node is a new registration) or comes back to the listing after
 * leaving it. Not thread-safe: the owning actor's state.
 */
final class NodeListing {
    private final ServiceKey<NodeEndpoint.GetAddress> key;
    private final Duration endpointTimeout;
    private final Set<ActorRef<NodeEndpoint.GetAddress>> asking = new HashSet<>();
    private final Set<ActorRef<NodeEndpoint.GetAddress>> dropped = new HashSet<>();
    private Set<ActorRef<NodeEndpoint.GetAddress>> listed = Set.of();

    /** @param endpointTimeout how long a node has to say its address (rlhf.cluster.endpoint-timeout) */
    NodeListing(ServiceKey<NodeEndpoint.GetAddress> key, Duration endpointTimeout) {
        this.key = key;
        this.endpointTimeout = endpointTimeout;
    }

    /** Subscribes {@code context}'s actor to the role's listings, each adapted by {@code adapter}. */
    <T> void subscribe(ActorContext<T> context, Function<Receptionist.Listing, T> adapter) {
        context.getSystem().receptionist().tell(Receptionist.subscribe(key,
                context.messageAdapter(Receptionist.Listing.class, adapter::apply)));
    }

    /** Takes a new listing; a dropped node that left it is forgotten. */
    void update(Receptionist.Listing listing) {
        listed = Set.copyOf(listing.getServiceInstances(key));
        dropped.retainAll(listed);
    }

    /** The listed nodes not in {@code used}, not dropped and not being asked. */
    List<ActorRef<NodeEndpoint.GetAddress>> newcomers(Set<ActorRef<NodeEndpoint.GetAddress>> used) {
        return listed.stream().filter(node -> !used.contains(node) && !dropped.contains(node)
                && !asking.contains(node)).toList();
    }

    /** Asks {@code node} where its service listens; the answer comes to the actor as {@code resolved} or not. */
    <T> void ask(ActorContext<T> context, ActorRef<NodeEndpoint.GetAddress> node,
            BiFunction<ActorRef<NodeEndpoint.GetAddress>, NodeEndpoint.Address, T> resolved,
            BiFunction<ActorRef<NodeEndpoint.GetAddress>, Throwable, T> unresolved) {
        asking.add(node);
        context.ask(NodeEndpoint.Address.class, node, endpointTimeout, NodeEndpoint.GetAddress::new,
                (address, failure) -> address != null ? resolved.apply(node, address) : unresolved.apply(node,
                        failure));
    }

    /** An ask was answered: whether {@code node} is still listed (it may have left while it was asked). */
    boolean answered(ActorRef<NodeEndpoint.GetAddress> node) {
        asking.remove(node);
        return listed.contains(node);
    }

    boolean isListed(ActorRef<NodeEndpoint.GetAddress> node) {
        return listed.contains(node);
    }

    boolean isAsking() {
        return !asking.isEmpty();
    }

    /** Not to be asked again while it stays listed. */
    void drop(ActorRef<NodeEndpoint.GetAddress> node) {
        if (listed.contains(node)) {
            dropped.add(node);
        }
    }
}
