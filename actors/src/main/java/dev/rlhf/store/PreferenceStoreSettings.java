package dev.rlhf.store;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link PreferenceStore}, read once from the {@code rlhf.store} section of the
 * configuration (defaults in the actors module's {@code reference.conf}).
 *
 * @param path directory of the RocksDB database
 * @param annotationsPerTask distinct annotators a task gets unless it says otherwise
 * @param rationaleMaxBytes largest accepted rationale in UTF-8 bytes
 * @param strengthMax top of the Likert scale for a judgment's strength (scale 1..strengthMax)
 * @param groupCommitMaxBatch most pending changes merged into one synced write
 * @param maxQueuedChanges most changes waiting for the writer; one more fails at once with {@link
 *     StoreOverloadedException}
 * @param assignmentLease how long an assignment holds one of its task's annotations for the annotator; an
 *     unjudged one older than this is reclaimed and the task goes to someone else
 * @param undoWindow how long after its {@code judged_at} an annotator may take a judgment back
 */
public record PreferenceStoreSettings(
        Path path, int annotationsPerTask, int rationaleMaxBytes, int strengthMax, int groupCommitMaxBatch,
        int maxQueuedChanges, Duration assignmentLease, Duration undoWindow) {

    /** The configuration section these settings are read from. */
    public static final String CONFIG_PATH = "rlhf.store";

    /** The undo window of {@code reference.conf} ({@code rlhf.store.undo-window}), for settings built in code. */
    public static final Duration DEFAULT_UNDO_WINDOW = Duration.ofMinutes(2);

    /** Settings with the {@link #DEFAULT_UNDO_WINDOW}. */
    public PreferenceStoreSettings(Path path, int annotationsPerTask, int rationaleMaxBytes, int strengthMax,
            int groupCommitMaxBatch, int maxQueuedChanges, Duration assignmentLease) {
        this(path, annotationsPerTask, rationaleMaxBytes, strengthMax, groupCommitMaxBatch, maxQueuedChanges,
                assignmentLease, DEFAULT_UNDO_WINDOW);
    }

    /** @throws IllegalArgumentException naming the setting that is out of range */
    public PreferenceStoreSettings {
        Objects.requireNonNull(path, "path must not be null");
        requirePositive(annotationsPerTask, "annotations-per-task");
        requirePositive(rationaleMaxBytes, "rationale-max-bytes");
        requirePositive(strengthMax, "strength-max");
        requirePositive(groupCommitMaxBatch, "group-commit-max-batch");
        requirePositive(maxQueuedChanges, "max-queued-changes");
        Objects.requireNonNull(assignmentLease, "assignmentLease must not be null");
        if (assignmentLease.isNegative() || assignmentLease.isZero()) {
            throw new IllegalArgumentException(CONFIG_PATH + ".assignment-lease must be positive but was: "
                    + assignmentLease);
        }
        Objects.requireNonNull(undoWindow, "undoWindow must not be null");
        if (undoWindow.isNegative()) {
            throw new IllegalArgumentException(CONFIG_PATH + ".undo-window must not be negative but was: "
                    + undoWindow);
        }
    }

    /**
     * Reads {@code rlhf.store} from {@code config}.
     *
     * @throws com.typesafe.config.ConfigException if a key is missing or has the wrong type
     * @throws IllegalArgumentException if a value is out of range
     */
    public static PreferenceStoreSettings fromConfig(Config config) {
        Config c = config.getConfig(CONFIG_PATH);
        return new PreferenceStoreSettings(
                Path.of(c.getString("path")),
                c.getInt("annotations-per-task"),
                c.getInt("rationale-max-bytes"),
                c.getInt("strength-max"),
                c.getInt("group-commit-max-batch"),
                c.getInt("max-queued-changes"),
                c.getDuration("assignment-lease"),
                c.getDuration("undo-window"));
    }

    /** These settings with the database at {@code newPath}. */
    public PreferenceStoreSettings withPath(Path newPath) {
        return new PreferenceStoreSettings(
                newPath, annotationsPerTask, rationaleMaxBytes, strengthMax, groupCommitMaxBatch, maxQueuedChanges,
                assignmentLease, undoWindow);
    }

    /** These settings with assignments leased for {@code lease}. */
    public PreferenceStoreSettings withAssignmentLease(Duration lease) {
        return new PreferenceStoreSettings(
                path, annotationsPerTask, rationaleMaxBytes, strengthMax, groupCommitMaxBatch, maxQueuedChanges, lease,
                undoWindow);
    }

    /** These settings with judgments retractable for {@code window} after they were made. */
    public PreferenceStoreSettings withUndoWindow(Duration window) {
        return new PreferenceStoreSettings(
                path, annotationsPerTask, rationaleMaxBytes, strengthMax, groupCommitMaxBatch, maxQueuedChanges,
                assignmentLease, window);
    }

    private static void requirePositive(int value, String key) {
        if (value <= 0) {
            throw new IllegalArgumentException(
                    CONFIG_PATH + "." + key + " must be positive but was: " + value);
        }
    }
}
