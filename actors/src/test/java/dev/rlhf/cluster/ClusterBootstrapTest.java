package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import dev.rlhf.run.TinyExperiments;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster formed by Pekko Management's cluster bootstrap, as on Kubernetes but with config discovery on loopback:
 * the coordinator (this JVM) and a rollout node (a child JVM) with no seed nodes find each other's management
 * endpoints, agree on one to form the cluster, and run an experiment to its end; while it runs, both answer Pekko
 * Management's readiness check (GET /ready) as Up members. A fresh node in the same process (after the cluster
 * downed the last) takes the management port again.
 */
class ClusterBootstrapTest {
    private static final int ITERATIONS = 4;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void nodesWithoutSeedsFormTheClusterThroughBootstrapAndRunAnExperiment(@TempDir Path dir) throws Exception {
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        int coordinatorPort = NodeProcess.freePort();
        int nodePort = NodeProcess.freePort();
        String discovery = bootstrap(coordinatorPort, nodePort);
        try (NodeProcess node = NodeProcess.start(dir, "worker", sft, List.of(), discovery
                + "rlhf.cluster.management.port = " + nodePort + "\n")) {
            Config config = ConfigFactory.parseString(discovery)
                    .withValue("rlhf.cluster.management.port", ConfigValueFactory.fromAnyRef(coordinatorPort))
                    .withFallback(ConfigFactory.parseMap(TinyExperiments.keys(dir.resolve("run"), ITERATIONS)))
                    .withValue("rlhf.cluster.enabled", ConfigValueFactory.fromAnyRef(true))
                    .withValue("rlhf.cluster.port", ConfigValueFactory.fromAnyRef(0))
                    .withFallback(ConfigFactory.load());
            CompletableFuture<List<Integer>> ready = new CompletableFuture<>();
            RunSummary summary = new ExperimentRunner(config, sft, TinyExperiments.quiet()).start(false, event -> {
                if (event instanceof ExperimentCoordinator.IterationDone done && done.iteration() == 0) {
                    // asked off the listener's thread; the run goes on meanwhile, and the nodes stay members
                    CompletableFuture.runAsync(() -> ready.complete(List.of(ready(coordinatorPort),
                            ready(nodePort))));
                }
            }).outcome().get(5, TimeUnit.MINUTES).summary().orElseThrow();

            assertEquals(ITERATIONS, summary.iterations());
            assertEquals(List.of(200, 200), ready.get(1, TimeUnit.MINUTES),
                    "both members answered GET /ready with 200 while the run ran");
            assertTrue(node.log().contains("with weights v" + ITERATIONS), "the rollout node, which joined through "
                    + "bootstrap, generated the final evaluation; its log:\n" + node.log());
        }
    }

    @Test
    void aFreshNodeInTheSameProcessTakesTheManagementPortAgain() throws Exception {
        int port = NodeProcess.freePort();
        Config config = ConfigFactory.parseMap(Map.of("rlhf.cluster.management.enabled", true,
                        "rlhf.cluster.management.port", port, "rlhf.cluster.port", 0))
                .withFallback(ConfigFactory.load());
        ClusterSettings settings = ClusterSettings.from(config);
        // a node the cluster downs terminates its actor system, and its process starts a fresh node (ClusterNode)
        for (int node = 0; node < 2; node++) {
            ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), ClusterSettings.SYSTEM_NAME,
                    settings.nodeConfig(config, ClusterSettings.ROLLOUT_ROLE));
            try {
                ClusterJoin.join(system, settings);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                int alive = -1;
                while (alive != 200 && System.nanoTime() < deadline) {
                    alive = status(port, "alive");
                    Thread.sleep(100);
                }
                assertEquals(200, alive, "node " + node + " answers GET /alive on port " + port);
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Bootstrap through config discovery of the two management endpoints, quick to decide. */
    private static String bootstrap(int coordinatorPort, int nodePort) {
        return "rlhf.cluster.bootstrap = pekko-management\n"
                + "pekko.management.cluster.bootstrap {\n"
                + "  contact-point-discovery {\n"
                + "    discovery-method = config\n"
                + "    required-contact-point-nr = 2\n"
                + "    stable-margin = 1s\n"
                + "    interval = 200ms\n"
                + "  }\n"
                // the contact points listen on ports of their own here, unlike pods that share one
                + "  contact-point.filter-on-fallback-port = false\n"
                + "}\n"
                + "pekko.discovery.config.services.rlhf.endpoints = [\n"
                + "  { host = \"127.0.0.1\", port = " + coordinatorPort + " },\n"
                + "  { host = \"127.0.0.1\", port = " + nodePort + " }\n"
                + "]\n";
    }

    /** GET /ready until it answers 200 (a check may time out on a busy machine), for up to 30 seconds. */
    private static int ready(int port) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int status = status(port, "ready");
        while (status != 200 && System.nanoTime() < deadline) {
            sleep();
            status = status(port, "ready");
        }
        return status;
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The status of GET /{@code path} on the management endpoint at {@code port}; -1 when it does not answer. */
    private static int status(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/" + path)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
