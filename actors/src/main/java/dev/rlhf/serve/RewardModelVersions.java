package dev.rlhf.serve;

import ai.djl.ndarray.NDManager;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The reward models a server scores with: one checkpoint, or a directory of versions ({@code v0001}, ...) that may
 * grow while the server runs (a version counts once complete), with the settings it is served with. A version is
 * loaded when first asked for; at most {@code max-loaded-versions} stay in memory, the least recently used closed
 * first. Not thread-safe: RewardService uses it
 * from its one scoring thread. Closing it closes every loaded model.
 */
public final class RewardModelVersions implements AutoCloseable {
    private final Path dir;
    private final RewardServeSettings settings;
    private final NDManager parent;
    /** Loaded versions in order of use, least recent first. */
    private final Map<Integer, RewardModelCheckpoint.Loaded> loaded = new LinkedHashMap<>(8, 0.75f, true);

    private RewardModelVersions(Path dir, RewardServeSettings settings, NDManager parent) {
        this.dir = dir;
        this.settings = settings;
        this.parent = parent;
    }

    /**
     * Serves the checkpoint or versions directory of {@code settings}; models load into sub-managers of
     * {@code parent}.
     *
     * @throws IllegalArgumentException if the settings name no reward model, or one that is not a directory
     */
    public static RewardModelVersions open(RewardServeSettings settings, NDManager parent) {
        Path dir = settings.model().orElseThrow(() -> new IllegalArgumentException(
                RewardServeSettings.CONFIG_PATH + ".model names no reward model to serve"));
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("reward model " + dir + " is not a directory");
        }
        return new RewardModelVersions(dir, settings, parent);
    }

    /** What is served: the checkpoint or the versions directory. */
    public Path dir() {
        return dir;
    }

    public RewardServeSettings settings() {
        return settings;
    }

    /**
     * The complete versions by number, each with its checkpoint directory.
     *
     * @throws UncheckedIOException if the directory cannot be listed
     */
    SortedMap<Integer, Path> available() {
        try {
            if (Files.isRegularFile(dir.resolve(RewardModelInfo.FILE_NAME))) {
                return new TreeMap<>(Map.of(RewardModelInfo.read(dir).version(), dir));
            }
            return RewardModelCheckpoint.completeVersions(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the reward-model versions in " + dir, e);
        }
    }

    /**
     * Version {@code version}, stored in {@code checkpoint}, loaded.
     *
     * @throws dev.rlhf.policy.model.CheckpointException if the checkpoint cannot be loaded
     */
    RewardModelCheckpoint.Loaded load(int version, Path checkpoint) {
        RewardModelCheckpoint.Loaded model = loaded.get(version);
        if (model != null) {
            return model;
        }
        model = RewardModelCheckpoint.load(checkpoint, parent);
        loaded.put(version, model);
        Iterator<RewardModelCheckpoint.Loaded> leastRecent = loaded.values().iterator();
        while (loaded.size() > settings.maxLoadedVersions()) {
            leastRecent.next().close();
            leastRecent.remove();
        }
        return model;
    }

    @Override
    public void close() {
        loaded.values().forEach(RewardModelCheckpoint.Loaded::close);
        loaded.clear();
    }
}
