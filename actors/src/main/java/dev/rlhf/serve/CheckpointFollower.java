package dev.rlhf.serve;

import ai.djl.ndarray.NDManager;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.GptModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches an experiment run's checkpoints and hot-swaps each new one into a {@link PolicyServer}. Only complete
 * checkpoints are seen: {@link RunCheckpoint} renames a finished one into place. The checkpoint is loaded on the
 * follower's own thread, so generation goes on meanwhile; one that fails to load or does not fit the served model
 * is logged and skipped. The run's checkpoints carry no tokenizer: the served one stays.
 */
public final class CheckpointFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointFollower.class);

    private final RunCheckpoint checkpoints;
    private final PolicyServer server;
    private final NDManager parent;
    private final ScheduledExecutorService timer;
    /** The checkpoint last taken up, by path and file key, so one rewritten under the same name counts as new. */
    private String lastSeen;

    private CheckpointFollower(Path runDir, PolicyServer server, NDManager parent) {
        this.checkpoints = new RunCheckpoint(runDir);
        this.server = server;
        this.parent = parent;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "checkpoint-follower");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Looks at once, then every {@code pollInterval}, for a newer checkpoint of the run in {@code runDir}; loads
     * each into a sub-manager of {@code parent}.
     */
    public static CheckpointFollower start(Path runDir, PolicyServer server, NDManager parent, Duration pollInterval) {
        CheckpointFollower follower = new CheckpointFollower(runDir, server, parent);
        follower.timer.scheduleWithFixedDelay(follower::poll, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
        return follower;
    }

    private void poll() {
        try {
            Optional<Path> latest = checkpoints.latest();
            if (latest.isEmpty()) {
                return;
            }
            Path dir = latest.get();
            String key = key(dir);
            if (key.equals(lastSeen)) {
                return;
            }
            lastSeen = key;
            Path weights = RunCheckpoint.weightsDirectory(dir); // a learner node's, when the run had one
            String id = ServedModel.checkpointId(weights);
            long version = server.swapWeights(new GptModel(GptCheckpoint.load(weights, parent)), id);
            LOG.info("loaded {} as weight version {}", dir, version);
        } catch (IOException | RuntimeException e) {
            // a run may write a broken checkpoint, or the server may be stopping; keep serving what is there
            LOG.error("cannot hot-swap the run's newest checkpoint: {}", e.toString());
        }
    }

    private static String key(Path dir) throws IOException {
        return dir + "@" + Files.readAttributes(dir, BasicFileAttributes.class).fileKey();
    }

    /** Stops watching; a checkpoint being loaded is still handed over. */
    @Override
    public void close() {
        timer.shutdown();
        try {
            timer.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
