package dev.rlhf.cluster;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The actor a rollout worker node registers with the Receptionist under {@link #KEY}: it tells whoever asks where
 * the node's RolloutService listens. Its messages cross JVMs, so they are serialised as protobuf by
 * {@link DiscoverySerializer}.
 */
public final class RolloutEndpoint {
    /** The Receptionist key rollout worker nodes register under. */
    public static final ServiceKey<GetAddress> KEY = ServiceKey.create(GetAddress.class, "rlhf-rollout-worker");

    /** The messages of discovery, bound to {@link DiscoverySerializer} in reference.conf. */
    public sealed interface Message permits GetAddress, Address {}

    /** Asks for the RolloutService address. */
    public record GetAddress(ActorRef<Address> replyTo) implements Message {}

    /**
     * Where a worker node's RolloutService listens.
     *
     * @param node the node's cluster address, for logs
     */
    public record Address(String host, int port, String node) implements Message {}

    private RolloutEndpoint() {}

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
