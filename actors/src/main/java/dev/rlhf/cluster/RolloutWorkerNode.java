package dev.rlhf.cluster;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import dev.rlhf.actors.LocalPolicyReplica;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.actors.WeightsBoard;
import dev.rlhf.policy.DeviceChoice;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.model.WeightsSnapshot;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * A rollout worker node ({@code rlhf worker}): a cluster node with the rollout role that runs one
 * {@link RolloutWorker} (under restart supervision, as in the experiment JVM) behind a gRPC RolloutService, and
 * registers a {@link RolloutEndpoint} with the Receptionist so the coordinator finds the service. It runs until
 * its actor system terminates: on SIGTERM (leaving the cluster first), when the cluster downs it, or when it leaves
 * because the coordinator has gone ({@link CoordinatorWatch}); in the last two cases the caller may start a fresh
 * node to join the cluster again.
 */
public final class RolloutWorkerNode implements AutoCloseable {
    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";

    private final NDManager manager;
    private final Policy policy;
    private final ActorSystem<Void> system;
    private final Server server;
    private final RolloutEndpoint.Address address;

    private RolloutWorkerNode(NDManager manager, Policy policy, ActorSystem<Void> system, Server server,
            RolloutEndpoint.Address address) {
        this.manager = manager;
        this.policy = policy;
        this.system = system;
        this.server = server;
        this.address = address;
    }

    /**
     * Loads the policy, joins the cluster, starts the RolloutService and registers it.
     *
     * @param policyDir the SFT checkpoint, the same the coordinator tunes
     * @throws IOException if the service cannot bind its port
     */
    public static RolloutWorkerNode start(Config config, Path policyDir) throws IOException {
        ClusterSettings cluster = ClusterSettings.from(config);
        cluster.checkNode(config, ClusterSettings.ROLLOUT_ROLE);
        Engine.getInstance(); // loads libtorch, which the thread setting below goes to
        JniUtils.setNumThreads(cluster.workerIntraOpThreads());
        NDManager manager = NDManager.newBaseManager(DeviceChoice.parse(config.getString("rlhf.device")).resolve());
        Policy policy = null;
        ActorSystem<Void> system = null;
        try {
            policy = Policy.load(policyDir, manager);
            WeightsBoard board = new WeightsBoard(WeightsSnapshot.of(policy.model().weights(), 0));
            system = ActorSystem.create(Behaviors.empty(), ClusterSettings.SYSTEM_NAME,
                    cluster.nodeConfig(config, ClusterSettings.ROLLOUT_ROLE));
            Behavior<RolloutWorker.Command> supervised = Behaviors.supervise(RolloutWorker.create(0,
                            LocalPolicyReplica.factory(policy.model().weights(), policy.tokenizer(), board, manager)))
                    .onFailure(SupervisorStrategy.restart());
            ActorRef<RolloutWorker.Command> worker = system.systemActorOf(supervised, "rollout-worker",
                    DispatcherSelector.fromConfig(TENSOR_DISPATCHER));
            system.systemActorOf(CoordinatorWatch.create(), "coordinator-watch", Props.empty());
            ClusterJoin.joinSelfWithoutSeeds(system, cluster);
            Server server = serve(cluster, new RolloutGrpcService(worker, board, policy.model().config(),
                    cluster.maxWeightsBytes(), cluster.maxWeightsHeaderBytes(), system.scheduler(), cluster.callTimeout()));
            RolloutEndpoint.Address address = new RolloutEndpoint.Address(cluster.hostname(), server.getPort(),
                    system.address().toString());
            ActorRef<RolloutEndpoint.GetAddress> endpoint = system.systemActorOf(RolloutEndpoint.create(address),
                    "rollout-endpoint", Props.empty());
            system.receptionist().tell(Receptionist.register(RolloutEndpoint.KEY, endpoint));
            return new RolloutWorkerNode(manager, policy, system, server, address);
        } catch (IOException | RuntimeException e) {
            if (system != null) {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().join();
            }
            if (policy != null) {
                policy.close();
            }
            manager.close();
            throw e;
        }
    }

    /**
     * Starts {@code service} as a worker node's RolloutService: on {@code rlhf.cluster.worker.bind-host} (or the
     * cluster hostname) and port, over mutual TLS with the node's certificate when {@code rlhf.cluster.tls} is set,
     * checking the bearer token when {@code rlhf.cluster.token} is.
     */
    static Server serve(ClusterSettings cluster, BindableService service) throws IOException {
        String bindHost = cluster.workerBindHost().isEmpty() ? cluster.hostname() : cluster.workerBindHost();
        ClusterCredentials credentials = cluster.credentials();
        ServerServiceDefinition definition = credentials.serverInterceptor()
                .map(check -> ServerInterceptors.intercept(service, check))
                .orElseGet(service::bindService);
        return NettyServerBuilder.forAddress(new InetSocketAddress(bindHost, cluster.workerPort()),
                        credentials.serverCredentials())
                .maxInboundMessageSize(cluster.grpcMessageBytes())
                .addService(definition)
                .build()
                .start();
    }

    /** Where the RolloutService listens, as announced to the coordinator. */
    public RolloutEndpoint.Address address() {
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

    /** Stops the service (calls in flight get a few seconds), leaves the cluster, releases the policy. */
    @Override
    public void close() throws InterruptedException {
        server.shutdown();
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().join();
        policy.close();
        manager.close();
    }
}
