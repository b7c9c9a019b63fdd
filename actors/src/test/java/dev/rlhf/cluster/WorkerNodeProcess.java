package dev.rlhf.cluster;

import dev.rlhf.cli.RlhfCli;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code rlhf worker} in a child JVM on 127.0.0.1, every port picked by the system: started with {@link #start},
 * ready once it has printed its RolloutService and cluster addresses, killed by {@link #close}.
 */
final class WorkerNodeProcess implements AutoCloseable {
    private static final Pattern CLUSTER_NODE = Pattern.compile("cluster node (\\S+) with role rollout");
    private static final Pattern GRPC = Pattern.compile("rollout worker grpc listening on ([^:]+):(\\d+)");

    private final Process process;
    private final Path log;
    /** The node's cluster address, for other nodes to seed from. */
    final String clusterAddress;

    private WorkerNodeProcess(Process process, Path log, String clusterAddress) {
        this.process = process;
        this.log = log;
        this.clusterAddress = clusterAddress;
    }

    /**
     * Starts a worker node that holds {@code policy} and joins {@code seeds} (none: it forms a new cluster), and
     * waits until it is up.
     */
    static WorkerNodeProcess start(Path dir, String name, Path policy, List<String> seeds) throws Exception {
        Path config = dir.resolve(name + ".conf");
        Files.writeString(config, "rlhf.cluster {\n"
                + "  hostname = \"127.0.0.1\"\n"
                + "  port = 0\n"
                + "  seed-nodes = [" + seeds.stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(", "))
                + "]\n"
                + "  worker.policy-checkpoint = \"" + policy.toAbsolutePath() + "\"\n"
                + "}\n");
        Path log = dir.resolve(name + "-stderr.log");
        Process process = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx512m",
                        "-Dai.djl.offline=true",
                        "-Dai.djl.pytorch.num_threads=1",
                        "-Dai.djl.pytorch.num_interop_threads=1",
                        "-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener",
                        "-cp", System.getProperty("java.class.path"),
                        RlhfCli.class.getName(),
                        "worker", "--config", config.toString())
                .redirectError(log.toFile())
                .start();
        try {
            String address = awaitClusterAddress(process);
            if (address == null) {
                throw new IllegalStateException("worker " + name + " did not print its addresses; stderr:\n"
                        + Files.readString(log));
            }
            return new WorkerNodeProcess(process, log, address);
        } catch (Exception | Error e) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** What the node has logged so far (its stderr). */
    String log() throws IOException {
        return Files.readString(log);
    }

    /** Kills the node at once, as a crash would (SIGKILL). */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    /**
     * The cluster address once both lines are printed (the gRPC line comes first), or null if the process ends or
     * a minute passes first; stdout is drained after.
     */
    private static String awaitClusterAddress(Process child) throws Exception {
        CompletableFuture<String> found = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            boolean serving = false;
            try (BufferedReader lines = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    serving |= GRPC.matcher(line).matches();
                    Matcher node = CLUSTER_NODE.matcher(line);
                    if (serving && node.matches()) {
                        found.complete(node.group(1));
                    }
                }
            } catch (IOException e) {
                found.completeExceptionally(e);
            }
            found.complete(null);
        }, "worker-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            return found.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return null;
        }
    }
}
