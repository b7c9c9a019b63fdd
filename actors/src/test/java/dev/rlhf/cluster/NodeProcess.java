package dev.rlhf.cluster;

import dev.rlhf.cli.RlhfCli;
import dev.rlhf.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A role node in a child JVM on 127.0.0.1, every port picked by the system: {@code rlhf worker} ({@link #start}),
 * {@code rlhf node --role reward} ({@link #startReward}), {@code --role preferences} ({@link #startPreferences}) or
 * {@code --role learner} ({@link #startLearner});
 * ready once it has printed its gRPC and cluster addresses (again each time it starts a fresh node), killed by
 * {@link #close}.
 */
final class NodeProcess implements AutoCloseable {
    private static final Pattern CLUSTER_NODE =
            Pattern.compile("cluster node (\\S+) with role (rollout|reward|preferences|learner)");
    private static final Pattern GRPC = Pattern.compile(
            "(rollout worker|reward node|preferences node|learner node) grpc listening on ([^:]+):(\\d+)");

    private static final String ENDED = "";

    private final Process process;
    private final Path log;
    /** The cluster address of each node the process has started, in order; {@link #ENDED} once stdout ends. */
    private final BlockingQueue<String> addresses;
    /** The first node's cluster address, for other nodes to seed from. */
    final String clusterAddress;

    private NodeProcess(Process process, Path log, BlockingQueue<String> addresses, String clusterAddress) {
        this.process = process;
        this.log = log;
        this.addresses = addresses;
        this.clusterAddress = clusterAddress;
    }

    /** A port no socket is bound to now, for a node whose port must be known before it starts. */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /**
     * Starts a worker node that holds {@code policy} and joins {@code seeds} (none: it forms a new cluster), and
     * waits until it is up.
     */
    static NodeProcess start(Path dir, String name, Path policy, List<String> seeds) throws Exception {
        return start(dir, name, policy, seeds, "");
    }

    /** Like {@link #start(Path, String, Path, List)}, with {@code extraConfig} (HOCON) in its config file. */
    static NodeProcess start(Path dir, String name, Path policy, List<String> seeds, String extraConfig)
            throws Exception {
        return start(dir, name, policy, seeds, extraConfig, List.of("worker"));
    }

    /** A reward node ({@code rlhf node --role reward}) that reads {@code policy}'s tokenizer and joins {@code seeds}. */
    static NodeProcess startReward(Path dir, String name, Path policy, List<String> seeds) throws Exception {
        return startReward(dir, name, policy, seeds, "");
    }

    /** Like {@link #startReward(Path, String, Path, List)}, with {@code extraConfig} (HOCON) in its config file. */
    static NodeProcess startReward(Path dir, String name, Path policy, List<String> seeds, String extraConfig)
            throws Exception {
        return start(dir, name, policy, seeds, extraConfig, List.of("node", "--role", "reward"));
    }

    /**
     * A preferences node ({@code rlhf node --role preferences}) with its run stores under {@code storeRoot} (it reads
     * no policy: the store root stands in for one in its config file).
     */
    static NodeProcess startPreferences(Path dir, String name, Path storeRoot, List<String> seeds)
            throws Exception {
        return start(dir, name, storeRoot, seeds, "rlhf.cluster.preferences-node.store-root = \""
                + storeRoot.toAbsolutePath() + "\"\n", List.of("node", "--role", "preferences"));
    }

    /**
     * A learner node ({@code rlhf node --role learner}) that holds {@code policy} and writes the checkpoints of the
     * runs it learns for under {@code checkpointRoot}.
     */
    static NodeProcess startLearner(Path dir, String name, Path policy, Path checkpointRoot, List<String> seeds)
            throws Exception {
        return startLearner(dir, name, policy, checkpointRoot, seeds, "");
    }

    /** Like {@link #startLearner(Path, String, Path, Path, List)}, with {@code extraConfig} (HOCON) too. */
    static NodeProcess startLearner(Path dir, String name, Path policy, Path checkpointRoot, List<String> seeds,
            String extraConfig) throws Exception {
        return start(dir, name, policy, seeds, "rlhf.cluster.learner-node.checkpoint-root = \""
                + checkpointRoot.toAbsolutePath() + "\"\n" + extraConfig, List.of("node", "--role", "learner"));
    }

    private static NodeProcess start(Path dir, String name, Path policy, List<String> seeds, String extraConfig,
            List<String> command) throws Exception {
        Path config = dir.resolve(name + ".conf");
        Files.writeString(config, "rlhf.cluster {\n"
                + "  hostname = \"127.0.0.1\"\n"
                + "  port = 0\n"
                + "  seed-nodes = [" + seeds.stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(", "))
                + "]\n"
                + "  worker.policy-checkpoint = \"" + policy.toAbsolutePath() + "\"\n"
                + "}\n" + extraConfig);
        Path log = dir.resolve(name + "-stderr.log");
        List<String> arguments = new ArrayList<>(command);
        arguments.addAll(List.of("--config", config.toString()));
        Process process = new ProcessBuilder(ChildJvm.command(
                        List.of("-Xmx512m", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                                "-Dai.djl.pytorch.num_interop_threads=1"),
                        RlhfCli.class, arguments.toArray(String[]::new)))
                .redirectError(log.toFile())
                .start();
        try {
            BlockingQueue<String> addresses = readAddresses(process);
            String address = addresses.poll(60, TimeUnit.SECONDS);
            if (address == null || address.equals(ENDED)) {
                throw new IllegalStateException("node " + name + " did not print its addresses; stderr:\n"
                        + Files.readString(log));
            }
            return new NodeProcess(process, log, addresses, address);
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

    /** The cluster address of the next fresh node the process starts, or null if none is up within a minute. */
    String awaitNextClusterAddress() throws InterruptedException {
        String address = addresses.poll(60, TimeUnit.SECONDS);
        return address == null || address.equals(ENDED) ? null : address;
    }

    /** A queue that gets each node's cluster address once both of its lines are printed (the gRPC line first). */
    private static BlockingQueue<String> readAddresses(Process child) {
        BlockingQueue<String> addresses = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            boolean serving = false;
            try (BufferedReader lines = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    serving |= GRPC.matcher(line).matches();
                    Matcher node = CLUSTER_NODE.matcher(line);
                    if (serving && node.matches()) {
                        addresses.add(node.group(1));
                        serving = false;
                    }
                }
            } catch (IOException e) {
                // the process ended; so does the queue
            }
            addresses.add(ENDED);
        }, "node-stdout");
        reader.setDaemon(true);
        reader.start();
        return addresses;
    }
}
