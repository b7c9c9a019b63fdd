package dev.rlhf.cluster;

import com.typesafe.config.Config;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A running role node ({@code rlhf node --role ...}): its actor system in the cluster, its gRPC service, registered
 * with the Receptionist under its role's key, and what it must release when it stops. It runs until its actor
 * system terminates: on SIGTERM (leaving the cluster first), when the cluster downs it, or when it leaves because
 * the coordinator has gone ({@link CoordinatorWatch}); in the last two cases the caller may start a fresh node to
 * join the cluster again.
 */
public final class ClusterNode implements AutoCloseable {
    private final String role;
    private final ActorSystem<Void> system;
    private final Server server;
    private final NodeEndpoint.Address address;
    /** Closed in order (the reverse of their making) once the service and the actor system have stopped. */
    private final List<AutoCloseable> resources;

    private ClusterNode(String role, ActorSystem<Void> system, Server server, NodeEndpoint.Address address,
            List<AutoCloseable> resources) {
        this.role = role;
        this.system = system;
        this.server = server;
        this.address = address;
        this.resources = resources;
    }

    /** What a role builds once its node's actor system runs: the role's actors and the service in front of them. */
    @FunctionalInterface
    interface Role {
        /**
         * @param owned where to push what the node must release when it stops, as it is made (released in the
         *     reverse order, also when the node fails to start)
         */
        BindableService build(ActorSystem<Void> system, ClusterSettings cluster, Deque<AutoCloseable> owned)
                throws IOException;
    }

    /**
     * Starts a node of {@code role}: checks it may start ({@link ClusterSettings#checkNode}), starts its actor
     * system in the cluster, builds the role's service, joins, serves it and registers it under {@code key}.
     *
     * @throws IOException if the service cannot bind its port
     */
    static ClusterNode start(Config config, String role, ServiceKey<NodeEndpoint.GetAddress> key, Role build)
            throws IOException {
        ClusterSettings cluster = ClusterSettings.from(config);
        cluster.checkNode(config, role);
        Deque<AutoCloseable> owned = new ArrayDeque<>();
        ActorSystem<Void> system = null;
        try {
            system = ActorSystem.create(Behaviors.empty(), ClusterSettings.SYSTEM_NAME,
                    cluster.nodeConfig(config, role));
            BindableService service = build.build(system, cluster, owned);
            ClusterJoin.join(system, cluster);
            Server server = serve(cluster, service);
            return register(role, key, cluster, system, server, List.copyOf(owned));
        } catch (IOException | RuntimeException e) {
            if (system != null) {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().join();
            }
            for (AutoCloseable resource : owned) {
                try {
                    resource.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** Registers the node's service under {@code key} and watches for the coordinator's leaving. */
    private static ClusterNode register(String role, ServiceKey<NodeEndpoint.GetAddress> key,
            ClusterSettings cluster, ActorSystem<Void> system, Server server, List<AutoCloseable> resources) {
        system.systemActorOf(CoordinatorWatch.create(), "coordinator-watch", Props.empty());
        NodeEndpoint.Address address = new NodeEndpoint.Address(cluster.hostname(), server.getPort(),
                system.address().toString());
        ActorRef<NodeEndpoint.GetAddress> endpoint = system.systemActorOf(NodeEndpoint.create(address),
                role + "-endpoint", Props.empty());
        system.receptionist().tell(Receptionist.register(key, endpoint));
        return new ClusterNode(role, system, server, address, resources);
    }

    /** The node's cluster role. */
    public String role() {
        return role;
    }

    /** Where the node's gRPC service listens, as announced to the coordinator. */
    public NodeEndpoint.Address address() {
        return address;
    }

    /**
     * Blocks until the node's actor system has terminated.
     *
     * @return whether the node left the cluster on its own account (the cluster downed it, or it left after the
     *     coordinator), so a fresh node should join again; false after SIGTERM or {@link #close}
     */
    public boolean awaitTermination() {
        system.getWhenTerminated().toCompletableFuture().join();
        Optional<CoordinatedShutdown.Reason> reason = CoordinatedShutdown.get(system).getShutdownReason();
        return reason.isPresent() && (reason.get() == CoordinatedShutdown.clusterDowningReason()
                || reason.get() == CoordinatedShutdown.clusterLeavingReason());
    }

    /** Stops the service (calls in flight get a few seconds), leaves the cluster, releases the resources. */
    @Override
    public void close() throws Exception {
        server.shutdown();
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().join();
        for (AutoCloseable resource : resources) {
            resource.close();
        }
    }

    /**
     * Starts {@code service} as a role node's gRPC service: on {@code rlhf.cluster.worker.bind-host} (or the
     * cluster hostname) and port, over mutual TLS with the node's certificate when {@code rlhf.cluster.tls} is set,
     * checking the bearer token when {@code rlhf.cluster.token} is. Beside it, grpc-java's health service answers
     * SERVING for the server and for the service by name, without the token (a Kubernetes gRPC probe sends none;
     * the answer tells nothing else).
     */
    static Server serve(ClusterSettings cluster, BindableService service) throws IOException {
        String bindHost = cluster.workerBindHost().isEmpty() ? cluster.hostname() : cluster.workerBindHost();
        ClusterCredentials credentials = cluster.credentials();
        ServerServiceDefinition definition = credentials.serverInterceptor()
                .map(check -> ServerInterceptors.intercept(service, check))
                .orElseGet(service::bindService);
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus(definition.getServiceDescriptor().getName(), HealthCheckResponse.ServingStatus.SERVING);
        return NettyServerBuilder.forAddress(new InetSocketAddress(bindHost, cluster.workerPort()),
                        credentials.serverCredentials())
                .maxInboundMessageSize(cluster.grpcMessageBytes())
                .addService(definition)
                .addService(health.getHealthService())
                .build()
                .start();
    }
}
