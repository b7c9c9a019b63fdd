package dev.rlhf.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.rlhf.proto.v1.RolloutEndpointAddress;
import dev.rlhf.proto.v1.RolloutEndpointQuery;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Serialises {@link NodeEndpoint}'s messages as the protobuf messages of {@code cluster_discovery.proto}, actor
 * references in {@link ActorRefResolver}'s format. Pekko's own protobuf serializer binds only Pekko's shaded
 * protobuf and the protobuf 2 message base class, and cannot carry a typed {@code replyTo}.
 */
public final class DiscoverySerializer extends SerializerWithStringManifest {
    private static final String GET_ADDRESS = "GetAddress";
    private static final String ADDRESS = "Address";

    private final ExtendedActorSystem system;
    private volatile ActorRefResolver resolver;

    public DiscoverySerializer(ExtendedActorSystem system) {
        this.system = system;
    }

    @Override
    public int identifier() {
        return 718_281_828;
    }

    @Override
    public String manifest(Object message) {
        if (message instanceof NodeEndpoint.GetAddress) {
            return GET_ADDRESS;
        }
        if (message instanceof NodeEndpoint.Address) {
            return ADDRESS;
        }
        throw new IllegalArgumentException("cannot serialise " + message.getClass().getName());
    }

    @Override
    public byte[] toBinary(Object message) {
        if (message instanceof NodeEndpoint.GetAddress get) {
            return RolloutEndpointQuery.newBuilder()
                    .setReplyTo(resolver().toSerializationFormat(get.replyTo()))
                    .build().toByteArray();
        }
        if (message instanceof NodeEndpoint.Address address) {
            return RolloutEndpointAddress.newBuilder()
                    .setHost(address.host())
                    .setPort(address.port())
                    .setNode(address.node())
                    .build().toByteArray();
        }
        throw new IllegalArgumentException("cannot serialise " + message.getClass().getName());
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        try {
            switch (manifest) {
                case GET_ADDRESS -> {
                    RolloutEndpointQuery query = RolloutEndpointQuery.parseFrom(bytes);
                    return new NodeEndpoint.GetAddress(resolver().resolveActorRef(query.getReplyTo()));
                }
                case ADDRESS -> {
                    RolloutEndpointAddress address = RolloutEndpointAddress.parseFrom(bytes);
                    return new NodeEndpoint.Address(address.getHost(), address.getPort(), address.getNode());
                }
                default -> throw new NotSerializableException("unknown manifest " + manifest);
            }
        } catch (InvalidProtocolBufferException e) {
            throw new NotSerializableException("malformed " + manifest + ": " + e.getMessage());
        }
    }

    /** Resolved on first use: the typed system is not complete while serializers are created. */
    private ActorRefResolver resolver() {
        if (resolver == null) {
            resolver = ActorRefResolver.get(Adapter.toTyped(system));
        }
        return resolver;
    }
}
