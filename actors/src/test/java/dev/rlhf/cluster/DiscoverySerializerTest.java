package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.rlhf.proto.v1.RolloutEndpointAddress;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Discovery messages go through the serializer reference.conf binds them to, as protobuf, and come back equal. */
class DiscoverySerializerTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();

    @AfterAll
    static void shutDown() {
        TESTKIT.shutdownTestKit();
    }

    @Test
    void discoveryMessagesRoundTripAsProtobuf() {
        TestProbe<NodeEndpoint.Address> probe = TESTKIT.createTestProbe();
        NodeEndpoint.GetAddress query = new NodeEndpoint.GetAddress(probe.getRef());
        NodeEndpoint.Address address = new NodeEndpoint.Address("10.0.0.7", 50061, "pekko://rlhf@10.0.0.7:25520");

        TESTKIT.serializationTestKit().verifySerialization(query, true);
        TESTKIT.serializationTestKit().verifySerialization(address, true);

        Serialization serialization = SerializationExtension.get(Adapter.toClassic(TESTKIT.system()));
        Serializer serializer = serialization.findSerializerFor(address);
        assertInstanceOf(DiscoverySerializer.class, serializer);
        RolloutEndpointAddress wire = parse(serializer.toBinary(address));
        assertEquals("10.0.0.7", wire.getHost());
        assertEquals(50061, wire.getPort());
    }

    private static RolloutEndpointAddress parse(byte[] bytes) {
        try {
            return RolloutEndpointAddress.parseFrom(bytes);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError("not a RolloutEndpointAddress: " + e.getMessage(), e);
        }
    }
}
