package dev.rlhf.serve;

import dev.rlhf.auth.BearerTokenInterceptor;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.store.PreferenceStore;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gRPC server of PreferenceService alone over a {@link PreferenceStore}, with the grpc.health.v1 health service
 * (exempt from auth) and server reflection: what {@code rlhf label} runs beside the labeling UI. PreferenceService
 * authenticates as {@link AnnotatorTokenInterceptor} says; reflection needs the server's token when one is set.
 * PreferenceService turns NOT_SERVING when the store fails. The store stays the caller's to close.
 */
public final class PreferenceServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PreferenceServer.class);

    private final Server server;
    private final HealthStatusManager health;
    private final ServeSettings settings;

    private PreferenceServer(Server server, HealthStatusManager health, ServeSettings settings) {
        this.server = server;
        this.health = health;
        this.settings = settings;
    }

    /**
     * Starts a Netty server on {@code host:port} (port 0 picks a free one) with the transport, TLS, auth and
     * shutdown settings of {@code settings} (its own host and port are ignored).
     *
     * @throws IOException if the server cannot bind
     */
    public static PreferenceServer start(PreferenceStore store, ServeSettings settings, String host, int port)
            throws IOException {
        ServeSettings bound = settings.withAddress(host, port);
        return start(NettyTransport.builder(bound), store, bound);
    }

    /**
     * Starts the server on the transport of {@code builder} (its services are added here), then reports
     * PreferenceService SERVING.
     *
     * @throws IOException if the server cannot bind
     */
    static PreferenceServer start(ServerBuilder<?> builder, PreferenceStore store, ServeSettings settings)
            throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        List<ServerInterceptor> reflectionAuth = settings.authRequired()
                ? List.of(new BearerTokenInterceptor(settings.authToken(), "token"))
                : List.of();
        builder.addService(service(store, settings));
        builder.addService(ServerInterceptors.intercept(ProtoReflectionServiceV1.newInstance(), reflectionAuth));
        builder.addService(health.getHealthService());
        Server server = builder.build().start();
        health.setStatus(PreferenceServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
        store.failure().thenRun(() -> health.setStatus(PreferenceServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING));
        LOG.info("Serving PreferenceService over preference store {} on port {}", store.settings().path(),
                server.getPort());
        return new PreferenceServer(server, health, settings);
    }

    /**
     * PreferenceService over {@code store}, authenticated by {@link AnnotatorTokenInterceptor} with the server token
     * and annotator tokens of {@code settings}, requests parsed with the server's UTF-8 checks: what this server and
     * {@link PolicyServer} serve.
     */
    static ServerServiceDefinition service(PreferenceStore store, ServeSettings settings) {
        return PolicyServer.guarded(new PreferenceGrpcService(store).bindService(), FieldCaps.NONE,
                List.of(new AnnotatorTokenInterceptor(settings.authToken(), settings.annotatorTokens(), store)));
    }

    /** The address the server listens on (with the port it picked when asked for 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getListenSockets().get(0);
    }

    /**
     * Reports NOT_SERVING, refuses new calls, waits up to the shutdown grace for calls in flight and cancels the
     * rest. Restores the thread's interrupt flag if interrupted meanwhile.
     */
    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(settings.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
