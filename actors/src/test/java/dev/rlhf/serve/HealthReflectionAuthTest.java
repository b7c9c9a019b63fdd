package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.auth.BearerTokenInterceptor;
import dev.rlhf.proto.v1.GetModelInfoRequest;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.TokenizeRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The health and reflection services, and bearer-token auth on and off. */
class HealthReflectionAuthTest {
    @TempDir static Path dir;
    private static NDManager manager;
    private static ServedModel model;

    @BeforeAll
    static void buildModel() throws Exception {
        manager = NDManager.newBaseManager();
        model = TinyServedModel.create(manager, dir);
    }

    @AfterAll
    static void closeModel() {
        model.close();
        manager.close();
    }

    @Test
    void healthReportsEachServiceServing() throws Exception {
        try (RunningServer running = RunningServer.start(model)) {
            HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(running.channel);

            ServingStatus policy = health.check(
                    HealthCheckRequest.newBuilder().setService(PolicyServiceGrpc.SERVICE_NAME).build()).getStatus();
            ServingStatus all = health.check(HealthCheckRequest.getDefaultInstance()).getStatus();
            StatusRuntimeException preference = assertThrows(StatusRuntimeException.class, () -> health.check(
                    HealthCheckRequest.newBuilder().setService("rlhf.v1.PreferenceService").build()));

            assertEquals(ServingStatus.SERVING, policy);
            assertEquals(ServingStatus.SERVING, all);
            assertEquals(Status.Code.NOT_FOUND, preference.getStatus().getCode(), "no store, no PreferenceService");
        }
    }

    @Test
    void reflectionListsTheServices() throws Exception {
        try (RunningServer running = RunningServer.start(model)) {
            List<String> names = running.reflectedServices();

            assertTrue(names.containsAll(List.of("rlhf.v1.PolicyService", "grpc.health.v1.Health")),
                    "listed: " + names);
        }
    }

    @Test
    void withAuthOnCallsNeedTheRightBearerTokenButHealthDoesNot() throws Exception {
        ServeSettings settings = RunningServer.SETTINGS.withAuthToken("s3cret");
        try (RunningServer running = RunningServer.start(model, settings, Optional.empty())) {
            PolicyServiceGrpc.PolicyServiceBlockingStub anonymous = PolicyServiceGrpc.newBlockingStub(running.channel);

            StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
                    () -> anonymous.getModelInfo(GetModelInfoRequest.getDefaultInstance()));
            StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class,
                    () -> withToken(anonymous, "guess").getModelInfo(GetModelInfoRequest.getDefaultInstance()));
            TokenizeRequest overCap =
                    TokenizeRequest.newBuilder().setText("x".repeat(settings.maxTextBytes() + 1)).build();
            StatusRuntimeException wrongOverCap = assertThrows(StatusRuntimeException.class,
                    () -> withToken(anonymous, "guess").tokenize(overCap));
            String checkpoint = withToken(anonymous, "s3cret")
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance()).getCheckpointId();
            ServingStatus health = HealthGrpc.newBlockingStub(running.channel)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();

            assertEquals(Status.Code.UNAUTHENTICATED, missing.getStatus().getCode(), "no token");
            assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode(), "a wrong token");
            assertEquals(Status.Code.UNAUTHENTICATED, wrongOverCap.getStatus().getCode(),
                    "a wrong token is refused before the request's text is looked at");
            assertEquals("tiny-random@test", checkpoint);
            assertEquals(ServingStatus.SERVING, health, "health checks need no token");
        }
    }

    @Test
    void withAuthOffCallsNeedNoToken() throws Exception {
        try (RunningServer running = RunningServer.start(model)) {
            assertEquals("tiny-random@test", PolicyServiceGrpc.newBlockingStub(running.channel)
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance()).getCheckpointId());
        }
    }

    private static PolicyServiceGrpc.PolicyServiceBlockingStub withToken(
            PolicyServiceGrpc.PolicyServiceBlockingStub stub, String token) {
        Metadata headers = new Metadata();
        headers.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
}
