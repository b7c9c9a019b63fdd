package dev.rlhf.cluster;

import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.RolloutWorker;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Turns the Receptionist's listing of rollout worker nodes into worker proxies for the coordinator. For each
 * reachable node it asks where the node's RolloutService listens, spawns a {@link RemoteRolloutWorker} and tells
 * the coordinator it joined; when a node leaves the listing (it left, or became unreachable) its proxy is stopped,
 * which the coordinator sees. A node whose proxy stopped after a failed call, or that did not say its address, is
 * not used again until it re-registers (a restarted node is a new registration).
 */
public final class RolloutWorkerDiscovery extends AbstractBehavior<RolloutWorkerDiscovery.Command> {

    /** What discovery handles: all its own adapted messages. */
    public sealed interface Command permits Listed, Resolved, Unresolved, ProxyStopped {}

    private record Listed(Receptionist.Listing listing) implements Command {}

    private record Resolved(ActorRef<NodeEndpoint.GetAddress> node, NodeEndpoint.Address address)
            implements Command {}

    private record Unresolved(ActorRef<NodeEndpoint.GetAddress> node, Throwable cause) implements Command {}

    private record ProxyStopped(ActorRef<NodeEndpoint.GetAddress> node) implements Command {}

    private final ActorRef<ExperimentCoordinator.Command> coordinator;
    private final ClusterSettings settings;
    private final int vocabSize;
    private final EncodedWeights weights;
    private final Optional<LearnerLink> learner;
    private final Map<ActorRef<NodeEndpoint.GetAddress>, ActorRef<RolloutWorker.Command>> proxies =
            new HashMap<>();
    private final NodeListing listing;
    private int nextId;

    private RolloutWorkerDiscovery(ActorContext<Command> context, ActorRef<ExperimentCoordinator.Command> coordinator,
            ClusterSettings settings, int firstId, int vocabSize, Optional<LearnerLink> learner) {
        super(context);
        this.learner = learner;
        this.vocabSize = vocabSize;
        this.coordinator = coordinator;
        this.settings = settings;
        this.weights = new EncodedWeights(settings.weightChunkBytes());
        this.nextId = firstId;
        this.listing = new NodeListing(NodeEndpoint.ROLLOUT_KEY, settings.endpointTimeout());
        listing.subscribe(context, Listed::new);
    }

    /**
     * @param firstId the coordinator's id for the first remote worker (after the local ones)
     * @param vocabSize the size of the policy's vocabulary: a worker answering a token id outside it is dropped
     * @param learner the run's learner node, which sends the weight versions it makes to the nodes itself; empty
     *     when the learner is in the coordinator's JVM
     */
    public static Behavior<Command> create(ActorRef<ExperimentCoordinator.Command> coordinator,
            ClusterSettings settings, int firstId, int vocabSize, Optional<LearnerLink> learner) {
        return Behaviors.setup(context -> new RolloutWorkerDiscovery(context, coordinator, settings, firstId,
                vocabSize, learner));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Listed.class, this::onListed)
                .onMessage(Resolved.class, this::onResolved)
                .onMessage(Unresolved.class, this::onUnresolved)
                .onMessage(ProxyStopped.class, this::onProxyStopped)
                .build();
    }

    private Behavior<Command> onListed(Listed message) {
        listing.update(message.listing());
        for (ActorRef<NodeEndpoint.GetAddress> node : listing.newcomers(proxies.keySet())) {
            listing.ask(getContext(), node, Resolved::new, Unresolved::new);
        }
        proxies.entrySet().removeIf(entry -> {
            if (listing.isListed(entry.getKey())) {
                return false;
            }
            getContext().getLog().warn("rollout worker node {} left the cluster or is unreachable; dropping it",
                    entry.getKey().path().address());
            getContext().stop(entry.getValue());
            return true;
        });
        return this;
    }

    private Behavior<Command> onResolved(Resolved message) {
        if (!listing.answered(message.node())) {
            return this; // it left while it was being asked
        }
        NodeEndpoint.Address address = message.address();
        int id = nextId++;
        ActorRef<RolloutWorker.Command> proxy = getContext().spawn(RemoteRolloutWorker.create(id, address, weights,
                learner, settings, vocabSize), "remote-rollout-worker-" + id);
        getContext().watchWith(proxy, new ProxyStopped(message.node()));
        proxies.put(message.node(), proxy);
        getContext().getLog().info("rollout worker node {} joined as worker {}: RolloutService at {}:{}",
                address.node(), id, address.host(), address.port());
        coordinator.tell(new ExperimentCoordinator.WorkerJoined(proxy));
        return this;
    }

    private Behavior<Command> onUnresolved(Unresolved message) {
        if (listing.answered(message.node())) {
            getContext().getLog().warn("rollout worker node {} did not say where its RolloutService listens ({}); "
                    + "not using it", message.node().path().address(), message.cause().toString());
            listing.drop(message.node());
        }
        return this;
    }

    private Behavior<Command> onProxyStopped(ProxyStopped message) {
        if (proxies.remove(message.node()) != null) {
            listing.drop(message.node()); // it stopped itself after a failed call
        }
        return this;
    }
}
