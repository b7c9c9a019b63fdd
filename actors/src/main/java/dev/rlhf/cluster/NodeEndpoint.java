package dev.rlhf.cluster;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The actor a role's node registers with the Receptionist under its role's key: it tells whoever asks where the
 * node's gRPC service (RolloutService, RewardScorerService, PreferenceCollectorService, LearnerService)
 * listens. Its messages cross JVMs, so they are serialised
 * as protobuf by {@link DiscoverySerializer}.
 */
public final class NodeEndpoint {
    /** The Receptionist key rollout worker nodes register under. */
    public static final ServiceKey<GetAddress> ROLLOUT_KEY =
            ServiceKey.create(GetAddress.class, "rlhf-rollout-worker");
    /** The Receptionist key reward nodes register under. */
    public static final ServiceKey<GetAddress> REWARD_KEY = ServiceKey.create(GetAddress.class, "rlhf-reward-scorer");
    /** The Receptionist key the preferences node registers under. */
    public static final ServiceKey<GetAddress> PREFERENCES_KEY =
            ServiceKey.create(GetAddress.class, "rlhf-preferences");
    /** The Receptionist key the learner node registers under. */
    public static final ServiceKey<GetAddress> LEARNER_KEY = ServiceKey.create(GetAddress.class, "rlhf-learner");

    /** The messages of discovery, bound to {@link DiscoverySerializer} in reference.conf. */
    public sealed interface Message permits GetAddress, Address {}

    /** Asks for the gRPC service's address. */
    public record GetAddress(ActorRef<Address> replyTo) implements Message {}

    /**
     * Where a node's gRPC service listens.
     *
     * @param node the node's cluster address, for logs
     */
    public record Address(String host, int port, String node) implements Message {}

    private NodeEndpoint() {}

    /** Answers every {@link GetAddress} with {@code address}. */
    public static Behavior<GetAddress> create(Address address) {
        return Behaviors.receive(GetAddress.class)
                .onMessage(GetAddress.class, get -> {
                    get.replyTo().tell(address);
                    return Behaviors.same();
                })
                .build();
    }
}
