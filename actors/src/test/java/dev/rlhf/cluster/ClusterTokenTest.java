package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import dev.rlhf.auth.BearerTokenInterceptor;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.RolloutRequest;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A worker node's RolloutService with {@code rlhf.cluster.token}, over a real loopback socket: a call without the
 * token or with another answers UNAUTHENTICATED (never naming the token); the coordinator's channel carries it.
 */
class ClusterTokenTest {
    private static final String TOKEN = "cluster-token-for-this-test";

    private RecordingRolloutService service;
    private Server server;
    private ManagedChannel plain;
    private ManagedChannel coordinator;

    @BeforeEach
    void startService() throws Exception {
        ClusterSettings settings = ClusterSettings.from(ConfigFactory.parseMap(Map.of(
                        "rlhf.cluster.hostname", "127.0.0.1",
                        "rlhf.cluster.token", TOKEN))
                .withFallback(ConfigFactory.load()));
        service = new RecordingRolloutService();
        server = ClusterNode.serve(settings, service);
        plain = Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), InsecureChannelCredentials.create())
                .build();
        coordinator = settings.credentials().channelBuilder("127.0.0.1", server.getPort()).build();
    }

    @AfterEach
    void stopService() throws InterruptedException {
        plain.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        coordinator.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void aCallWithoutTheClusterTokenAnswersUnauthenticated() {
        StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
                () -> generate(RolloutServiceGrpc.newBlockingStub(plain)));
        StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class,
                () -> generate(RolloutServiceGrpc.newBlockingStub(plain).withInterceptors(bearer(TOKEN + "x"))));
        StatusRuntimeException otherScheme = assertThrows(StatusRuntimeException.class,
                () -> generate(RolloutServiceGrpc.newBlockingStub(plain).withInterceptors(
                        MetadataUtils.newAttachHeadersInterceptor(authorization("Basic " + TOKEN)))));

        for (StatusRuntimeException refused : new StatusRuntimeException[] {missing, wrong, otherScheme}) {
            assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode(), refused.toString());
            assertFalse(refused.getStatus().getDescription().contains(TOKEN), "the status names no token: "
                    + refused.getStatus());
        }
        assertEquals(0, service.calls.get(), "no call reached the service");
    }

    @Test
    void theCoordinatorsChannelCarriesTheClusterToken() {
        int completions = generate(RolloutServiceGrpc.newBlockingStub(coordinator));

        assertEquals(1, completions);
        assertEquals(1, service.calls.get());
    }

    @Test
    void theHealthServiceAnswersWithoutTheTokenAsAKubernetesProbeAsks() {
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(plain).withDeadlineAfter(10,
                TimeUnit.SECONDS);

        HealthCheckResponse server = health.check(HealthCheckRequest.getDefaultInstance());
        HealthCheckResponse rollout = health.check(HealthCheckRequest.newBuilder()
                .setService(RolloutServiceGrpc.SERVICE_NAME).build());

        assertEquals(HealthCheckResponse.ServingStatus.SERVING, server.getStatus());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, rollout.getStatus());
        assertEquals(0, service.calls.get(), "the health check reached no role service");
    }

    private static int generate(RolloutServiceGrpc.RolloutServiceBlockingStub stub) {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                .generateChunk(GenerateChunkRequest.newBuilder().setChunk(0)
                        .addRequests(RolloutRequest.newBuilder().addPromptTokenIds(1))
                        .build())
                .getCompletionsCount();
    }

    private static ClientInterceptor bearer(String token) {
        return MetadataUtils.newAttachHeadersInterceptor(authorization("Bearer " + token));
    }

    private static Metadata authorization(String value) {
        Metadata headers = new Metadata();
        headers.put(BearerTokenInterceptor.AUTHORIZATION, value);
        return headers;
    }
}
