package dev.rlhf.serve;

import dev.rlhf.auth.BearerTokenInterceptor;
import dev.rlhf.policy.generate.TokenDecoder;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.proto.v1.ExperimentServiceGrpc;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.RewardServiceGrpc;
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
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves PolicyService (plus PreferenceService when given a store, RewardService when given reward models,
 * ExperimentService when given one) on the transport of the builder it is handed, with the grpc.health.v1 health
 * service (one status per service, exempt from auth) and server reflection. The served model (until swapped out, see {@link #swapWeights}), the store and
 * the reward models stay the caller's to close.
 */
public final class PolicyServer {
    /** Why a server without a bearer token does not serve ExperimentService. */
    public static final String EXPERIMENTS_NEED_AUTH = "rlhf.serve.auth-token must be set to serve ExperimentService"
            + " (--experiments, rlhf.serve.experiments.enabled): it runs clients' experiments in this process";
    /** Why a server bound beyond loopback without TLS does not serve ExperimentService. */
    public static final String EXPERIMENTS_NEED_TLS = "rlhf.serve.tls-cert-chain and tls-private-key must be set to"
            + " serve ExperimentService on an address other hosts can reach (rlhf.serve.host): its bearer token and"
            + " clients' configurations would cross the network in clear text; bind 127.0.0.1 or configure TLS";
    private static final Logger LOG = LoggerFactory.getLogger(PolicyServer.class);

    private final ServerBuilder<?> builder;
    private final ServedModel served;
    private final ServeSettings settings;
    private final Optional<PreferenceStore> store;
    private final Optional<RewardModelVersions> rewards;
    private final Optional<ExperimentGrpcService> experiments;
    private final HealthStatusManager health = new HealthStatusManager();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private GenerationScheduler scheduler;
    private Optional<RewardGrpcService> rewardService = Optional.empty();
    private Server server;

    /**
     * @param builder the transport (Netty in production, see {@link NettyTransport}); its services are added here
     * @param store the preference store to serve, or empty for no PreferenceService
     * @param rewards the reward models to serve, or empty for no RewardService
     * @param experiments the ExperimentService to serve, or empty for none
     * @throws IllegalArgumentException if given an ExperimentService while {@code settings} turn auth off
     */
    public PolicyServer(ServerBuilder<?> builder, ServedModel served, ServeSettings settings,
            Optional<PreferenceStore> store, Optional<RewardModelVersions> rewards,
            Optional<ExperimentGrpcService> experiments) {
        if (experiments.isPresent()) {
            checkExperimentsAllowed(settings);
        }
        this.builder = builder;
        this.served = served;
        this.settings = settings;
        this.store = store;
        this.rewards = rewards;
        this.experiments = experiments;
    }

    /**
     * Whether {@code settings} may serve ExperimentService: it needs the bearer token, and TLS unless bound to a
     * loopback address.
     *
     * @throws IllegalArgumentException naming the keys to set otherwise
     */
    public static void checkExperimentsAllowed(ServeSettings settings) {
        if (!settings.authRequired()) {
            throw new IllegalArgumentException(EXPERIMENTS_NEED_AUTH);
        }
        if (settings.tlsCertChain().isEmpty() && !isLoopback(settings.host())) {
            throw new IllegalArgumentException(EXPERIMENTS_NEED_TLS);
        }
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * Starts the scheduler and the server, then reports every service SERVING; PreferenceService turns NOT_SERVING
     * when its store fails (the other services, and the server as a whole, keep serving).
     *
     * @throws IOException if the server cannot bind
     */
    public PolicyServer start() throws IOException {
        TokenDecoder decoder = served.tokenizer().<TokenDecoder>map(t -> t::decode).orElse(null);
        scheduler = new GenerationScheduler(served.weights(), decoder, settings.maxBatch(), settings.maxQueued());
        rewardService = rewards.map(RewardGrpcService::new);
        List<ServerInterceptor> auth = settings.authRequired()
                ? List.of(new BearerTokenInterceptor(settings.authToken(), "token"))
                : List.of();
        PolicyGrpcService policy = new PolicyGrpcService(served, scheduler, settings);
        builder.addService(guarded(policy.bindService(), policy.fieldCaps(), auth));
        store.ifPresent(s -> builder.addService(PreferenceServer.service(s, settings)));
        rewardService.ifPresent(r -> builder.addService(guarded(r.bindService(), r.fieldCaps(), auth)));
        experiments.ifPresent(e -> builder.addService(guarded(e.bindService(), FieldCaps.NONE, auth)));
        builder.addService(ServerInterceptors.intercept(ProtoReflectionServiceV1.newInstance(), auth));
        builder.addService(health.getHealthService());
        try {
            server = builder.build().start();
        } catch (IOException | RuntimeException e) {
            scheduler.close();
            rewardService.ifPresent(RewardGrpcService::close);
            throw e;
        }
        health.setStatus(PolicyServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        store.ifPresent(s -> {
            health.setStatus(PreferenceServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
            s.failure().thenRun(() -> health.setStatus(PreferenceServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING));
        });
        rewards.ifPresent(r -> health.setStatus(RewardServiceGrpc.SERVICE_NAME, ServingStatus.SERVING));
        experiments.ifPresent(e -> health.setStatus(ExperimentServiceGrpc.SERVICE_NAME, ServingStatus.SERVING));
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
        LOG.info("Serving {} on port {}{}{}", served.checkpointId(), port(),
                store.map(s -> " with preference store " + s.settings().path()).orElse(""),
                rewards.map(r -> " with reward models " + r.dir()).orElse(""));
        return this;
    }

    /**
     * Hot-swaps the policy: calls from now on decode with {@code model}, calls in flight finish on the weights they
     * started with, whose native memory is then released (the first served model's included). The server owns
     * {@code model} from here.
     *
     * @return the weight version {@code model} is served as
     * @throws IllegalArgumentException if its config differs from the served model's (the model is closed)
     * @throws java.util.concurrent.RejectedExecutionException if the server is stopped (the model is closed)
     */
    public long swapWeights(GptModel model, String checkpointId) {
        return scheduler.swap(model, checkpointId);
    }

    /** The weight version new calls are served with. */
    public long weightVersion() {
        return scheduler.currentWeights().version();
    }

    /** The port the server listens on (the one it picked when configured with 0); -1 for a non-socket transport. */
    public int port() {
        return server.getPort();
    }

    /** Sequences decoding in the running batch now. */
    public int runningSequences() {
        return scheduler.runningCount();
    }

    /** Sequences submitted and not yet finished or cancelled (running plus queued). */
    public int inFlightSequences() {
        return scheduler.inFlightCount();
    }

    /**
     * Reports NOT_SERVING, refuses new calls, waits up to the shutdown grace for calls in flight, cancels the rest
     * and stops the scheduler.
     */
    public void stop() throws InterruptedException {
        try {
            if (server != null) {
                health.enterTerminalState();
                server.shutdown();
                if (!server.awaitTermination(settings.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
                scheduler.close();
                rewardService.ifPresent(RewardGrpcService::close);
            }
        } finally {
            stopped.countDown();
        }
    }

    /**
     * Blocks until {@link #stop()} has finished: no call is served, and neither the scheduler nor RewardService
     * uses a model any more.
     */
    public void blockUntilShutdown() throws InterruptedException {
        stopped.await();
    }

    /**
     * Checks the token first if auth is on, then the caps on the request's bytes, then parses requests itself (so
     * text over a cap and bad UTF-8 answer INVALID_ARGUMENT).
     */
    static ServerServiceDefinition guarded(ServerServiceDefinition service, FieldCaps caps,
            List<ServerInterceptor> auth) {
        return ServerInterceptors.intercept(Utf8Validation.rejectingUnparsableRequests(service, caps), auth);
    }
}
