package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.RolloutRequest;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster nodes with {@code rlhf.cluster.tls}, in this JVM over real loopback sockets: nodes whose certificates the
 * cluster's CA signed join over Artery {@code tls-tcp} and the coordinator drives a worker's RolloutService over
 * mutual TLS; a node without such a certificate (plain TCP, or a key signed by another CA) never joins, is never
 * called, and cannot call a worker's RolloutService.
 */
class ClusterTlsTest {
    private static final int VOCAB = 40;
    /** Long enough for a node to try joining its seed more than once (every few seconds by default). */
    private static final Duration NEVER = Duration.ofSeconds(8);

    @TempDir static Path certificates;
    private static TestCertificates cluster;
    private static TestCertificates foreign;

    private final List<ActorTestKit> nodes = new ArrayList<>();
    private final List<Server> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void makeCertificates() throws Exception {
        cluster = TestCertificates.make(certificates.resolve("cluster"), "coordinator", "worker");
        foreign = TestCertificates.make(certificates.resolve("foreign"), "stranger");
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (Server server : servers) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        // all at once, with room: a TLS node leaving a cluster takes longer than the test kit's 10 s on a loaded machine
        nodes.forEach(node -> node.system().terminate());
        for (ActorTestKit node : nodes) {
            node.system().getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void nodesWithCertificatesOfTheClusterCaJoinAndTheCoordinatorCallsTheWorkerOverMutualTls() throws Exception {
        ClusterSettings coordinatorSettings = settings(tls(cluster, "coordinator"), List.of());
        ActorTestKit coordinator = node(coordinatorSettings, ClusterSettings.COORDINATOR_ROLE);
        ClusterSettings workerSettings = settings(tls(cluster, "worker"), List.of(address(coordinator)));
        ActorTestKit worker = node(workerSettings, ClusterSettings.ROLLOUT_ROLE);
        RecordingRolloutService service = new RecordingRolloutService();
        AtomicReference<String> caller = new AtomicReference<>();
        register(worker, serve(workerSettings, service, caller));
        TestProbe<ExperimentCoordinator.Command> joined = coordinator.createTestProbe();
        TestProbe<StatusReply<RolloutWorker.Rollout>> rolledOut = coordinator.createTestProbe();

        coordinator.spawn(RolloutWorkerDiscovery.create(joined.getRef(), coordinatorSettings, 0, VOCAB,
                Optional.empty()));
        ActorRef<RolloutWorker.Command> proxy = joined.expectMessageClass(ExperimentCoordinator.WorkerJoined.class,
                Duration.ofSeconds(30)).worker();
        proxy.tell(new RolloutWorker.Generate(3, List.of(new GenerationRequest(new int[] {1},
                SamplingParams.sample(4, 1))), rolledOut.getRef()));

        StatusReply<RolloutWorker.Rollout> reply = rolledOut.receiveMessage(Duration.ofSeconds(30));
        assertTrue(reply.isSuccess(), "the chunk came back over mutual TLS: " + reply);
        joined.awaitAssert(Duration.ofSeconds(10), () -> {
            assertEquals(2, upMembers(coordinator.system()), "both nodes are members");
            return null;
        });
        assertEquals("CN=coordinator", caller.get(), "the worker saw the coordinator's certificate");
    }

    @Test
    void nodesWithoutACertificateOfTheClusterCaNeverJoinAndAreNeverCalled() throws Exception {
        ClusterSettings coordinatorSettings = settings(tls(cluster, "coordinator"), List.of());
        ActorTestKit coordinator = node(coordinatorSettings, ClusterSettings.COORDINATOR_ROLE);
        List<String> seeds = List.of(address(coordinator));
        // plain TCP; and TLS with a key another CA signed, though trusting the cluster's (public) CA certificate
        ClusterSettings plainSettings = settings(Map.of(), seeds);
        ClusterSettings strangerSettings = settings(Map.of(
                "key-store", foreign.keyStore("stranger").toString(),
                "key-store-password", TestCertificates.PASSWORD,
                "trust-store", cluster.trustStore().toString(),
                "trust-store-password", TestCertificates.PASSWORD), seeds);
        ActorTestKit plain = node(plainSettings, ClusterSettings.ROLLOUT_ROLE);
        ActorTestKit stranger = node(strangerSettings, ClusterSettings.ROLLOUT_ROLE);
        RecordingRolloutService plainService = new RecordingRolloutService();
        RecordingRolloutService strangerService = new RecordingRolloutService();
        register(plain, serve(plainSettings, plainService, new AtomicReference<>()));
        register(stranger, serve(strangerSettings, strangerService, new AtomicReference<>()));
        TestProbe<ExperimentCoordinator.Command> joined = coordinator.createTestProbe();

        coordinator.spawn(RolloutWorkerDiscovery.create(joined.getRef(), coordinatorSettings, 0, VOCAB,
                Optional.empty()));

        joined.expectNoMessage(NEVER);
        assertEquals(1, upMembers(coordinator.system()), "the coordinator is alone in its cluster: "
                + Cluster.get(coordinator.system()).state().getMembers());
        assertNotEquals(MemberStatus.up(), Cluster.get(plain.system()).selfMember().status(), "plain TCP is out");
        assertNotEquals(MemberStatus.up(), Cluster.get(stranger.system()).selfMember().status(),
                "another CA's certificate is out");
        assertEquals(0, plainService.calls.get() + strangerService.calls.get(), "no weights, no chunk went out");
    }

    @Test
    void rolloutServiceOverTlsRefusesCallersWithoutACertificateOfTheClusterCa() throws Exception {
        ClusterSettings workerSettings = settings(tls(cluster, "worker"), List.of());
        RecordingRolloutService service = new RecordingRolloutService();
        Server server = serve(workerSettings, service, new AtomicReference<>());
        ClusterSettings strangerSettings = settings(Map.of(
                "key-store", foreign.keyStore("stranger").toString(),
                "key-store-password", TestCertificates.PASSWORD,
                "trust-store", cluster.trustStore().toString(),
                "trust-store-password", TestCertificates.PASSWORD), List.of());
        ManagedChannel plaintext = channel(Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(),
                InsecureChannelCredentials.create()).build());
        ManagedChannel strangerChannel = channel(strangerSettings.credentials()
                .channelBuilder("127.0.0.1", server.getPort()).build());
        ManagedChannel coordinatorChannel = channel(settings(tls(cluster, "coordinator"), List.of()).credentials()
                .channelBuilder("127.0.0.1", server.getPort()).build());

        StatusRuntimeException plainRefused = assertThrows(StatusRuntimeException.class,
                () -> call(plaintext));
        StatusRuntimeException strangerRefused = assertThrows(StatusRuntimeException.class,
                () -> call(strangerChannel));
        int answered = call(coordinatorChannel);

        assertEquals(Status.Code.UNAVAILABLE, plainRefused.getStatus().getCode(), plainRefused.toString());
        assertEquals(Status.Code.UNAVAILABLE, strangerRefused.getStatus().getCode(), strangerRefused.toString());
        assertEquals(1, answered, "a node of the cluster is answered");
        assertEquals(1, service.calls.get(), "only the cluster's node got through");
    }

    /** The rlhf.cluster.tls keys of {@code node}'s key store and its CA's trust store. */
    private static Map<String, String> tls(TestCertificates certificates, String node) {
        return Map.of("key-store", certificates.keyStore(node).toString(),
                "key-store-password", TestCertificates.PASSWORD,
                "trust-store", certificates.trustStore().toString(),
                "trust-store-password", TestCertificates.PASSWORD);
    }

    /** A node on 127.0.0.1, on free ports, with {@code tls} (none if empty) and {@code seeds}. */
    private static ClusterSettings settings(Map<String, String> tls, List<String> seeds) {
        return ClusterSettings.from(config(tls, seeds));
    }

    private static Config config(Map<String, String> tls, List<String> seeds) {
        Map<String, Object> keys = new HashMap<>();
        keys.put("rlhf.cluster.hostname", "127.0.0.1");
        keys.put("rlhf.cluster.port", 0);
        keys.put("rlhf.cluster.seed-nodes", seeds);
        tls.forEach((key, value) -> keys.put("rlhf.cluster.tls." + key, value));
        return ConfigFactory.parseMap(keys).withFallback(ConfigFactory.load());
    }

    /** A cluster node in {@code role}, as the coordinator and {@code rlhf worker} start theirs. */
    private ActorTestKit node(ClusterSettings settings, String role) {
        settings.checkNode(ConfigFactory.load(), role);
        ActorTestKit node = ActorTestKit.create(ClusterSettings.SYSTEM_NAME,
                settings.nodeConfig(ConfigFactory.load(), role));
        nodes.add(node);
        ClusterJoin.join(node.system(), settings);
        return node;
    }

    /** The node's RolloutService, started as a worker node starts it, noting its callers' certificates. */
    private Server serve(ClusterSettings settings, RecordingRolloutService service, AtomicReference<String> caller)
            throws Exception {
        ServerInterceptor noteCaller = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
                if (session != null) {
                    try {
                        caller.set(session.getPeerPrincipal().getName());
                    } catch (SSLPeerUnverifiedException e) {
                        caller.set("unverified");
                    }
                }
                return next.startCall(call, headers);
            }
        };
        Server server = ClusterNode.serve(settings, () -> ServerInterceptors.intercept(service, noteCaller));
        servers.add(server);
        return server;
    }

    /** Registers the node's RolloutService with the Receptionist, as a worker node does. */
    private static void register(ActorTestKit node, Server server) {
        ActorRef<NodeEndpoint.GetAddress> endpoint = node.spawn(NodeEndpoint.create(
                new NodeEndpoint.Address("127.0.0.1", server.getPort(), node.system().address().toString())));
        node.system().receptionist().tell(Receptionist.register(NodeEndpoint.ROLLOUT_KEY, endpoint));
    }

    private ManagedChannel channel(ManagedChannel channel) {
        channels.add(channel);
        return channel;
    }

    /** One GenerateChunk call; the number of completions it answered. */
    private static int call(ManagedChannel channel) {
        return RolloutServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .generateChunk(GenerateChunkRequest.newBuilder().setChunk(0)
                        .addRequests(RolloutRequest.newBuilder().addPromptTokenIds(1))
                        .build())
                .getCompletionsCount();
    }

    private static String address(ActorTestKit node) {
        return Cluster.get(node.system()).selfMember().address().toString();
    }

    private static long upMembers(ActorSystem<?> system) {
        long up = 0;
        for (Member member : Cluster.get(system).state().getMembers()) {
            if (member.status() == MemberStatus.up()) {
                up++;
            }
        }
        return up;
    }
}
