package dev.rlhf.store;

import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.Prompt;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable store of prompts, comparison tasks, judgments and annotator assignments: one RocksDB
 * database with a column family per record kind.
 *
 * <p>Every change returns a future that completes only once the change is durable (synced to the
 * write-ahead log); concurrent changes share one sync (group commit). A change the store refuses
 * completes exceptionally with {@link ChangeRejectedException} naming the field, and nothing of it
 * is stored. Reads see every change whose future has completed. Thread-safe.
 *
 * <p>A change never waits to be queued: when {@code maxQueuedChanges} changes already wait for the writer it
 * completes at once with {@link StoreOverloadedException}. Once the store is closed, or once its writer has failed
 * (anything it throws while running or writing changes, an {@link Error} included; see {@link #failure()}), every
 * change completes at once with {@link StoreUnavailableException}, and so do the changes that were in hand or
 * queued when the writer failed. Reads go on working until the store is closed; then they throw {@link
 * StoreUnavailableException}.
 */
public final class PreferenceStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PreferenceStore.class);

    private final PreferenceStoreSettings settings;
    private final StoreDatabase database;
    private final SubmissionValidator validator;
    private final GroupCommitter committer;
    private final AtomicBoolean closed = new AtomicBoolean();

    private PreferenceStore(PreferenceStoreSettings settings, StoreDatabase database, Clock clock,
            UnaryOperator<GroupWrite> writeStep) {
        this.settings = settings;
        this.database = database;
        this.validator = new SubmissionValidator(settings.strengthMax(), settings.rationaleMaxBytes());
        this.committer = new GroupCommitter(database, settings.groupCommitMaxBatch(), settings.maxQueuedChanges(),
                clock, writeStep);
    }

    /**
     * Opens the store at {@code settings.path()}, creating it if missing and migrating an older
     * schema.
     *
     * @throws SchemaVersionException if the database was written by a newer build
     * @throws StoreAccessException if RocksDB cannot open it
     */
    public static PreferenceStore open(PreferenceStoreSettings settings) {
        return open(settings, Clock.systemUTC(), SchemaMigrations.standard());
    }

    /** As {@link #open(PreferenceStoreSettings)}, stamping records with {@code clock}. */
    public static PreferenceStore open(PreferenceStoreSettings settings, Clock clock) {
        return open(settings, clock, SchemaMigrations.standard());
    }

    static PreferenceStore open(PreferenceStoreSettings settings, Clock clock, SchemaMigrations migrations) {
        return open(settings, clock, migrations, UnaryOperator.identity());
    }

    /** As {@link #open(PreferenceStoreSettings, Clock)}, the writer's synced write wrapped by {@code writeStep}. */
    static PreferenceStore open(PreferenceStoreSettings settings, Clock clock, SchemaMigrations migrations,
            UnaryOperator<GroupWrite> writeStep) {
        StoreDatabase database = StoreDatabase.open(settings.path());
        try {
            migrations.bringUpToDate(database);
            PreferenceStore store = new PreferenceStore(settings, database, clock, writeStep);
            LOG.info("Opened preference store {} (schema version {}, {} judgments)", settings.path(),
                    migrations.currentVersion(), store.lastSequence());
            return store;
        } catch (RuntimeException e) {
            database.close();
            throw e;
        }
    }

    public PreferenceStoreSettings settings() {
        return settings;
    }

    // ---- changes -------------------------------------------------------------------------------

    /** Stores a prompt; the same prompt again is a no-op, another text under its id is rejected. */
    public CompletableFuture<Prompt> addPrompt(Prompt prompt) {
        return submit(() -> new AddPrompt(prompt));
    }

    /**
     * Stores a comparison task (its prompt must be stored, or queued before it) and opens it for
     * assignment; the same task again is a no-op, other content under its id is rejected.
     */
    public CompletableFuture<ComparisonTask> addTask(ComparisonTask task) {
        return submit(() -> new AddTask(task, settings.annotationsPerTask()));
    }

    /**
     * Records a judgment. Resubmitting the same content under the same id returns the same ack.
     * Rejected ({@link ChangeRejectedException}) for an unknown task, a choice, strength or
     * candidate out of range, a rationale over the cap, an annotator who already judged the task
     * under another id, or a judgment id reused with other content.
     */
    public CompletableFuture<JudgmentAck> submitJudgment(JudgmentSubmission submission) {
        return submit(() -> new RecordJudgment(validator.validate(submission)));
    }

    /**
     * The task {@code annotatorId} should judge next: one already assigned to them and not yet
     * judged, else the oldest task that needs more annotators and that they have never been given
     * or judged, which is then durably assigned to them. Empty when there is none. An assignment is a
     * lease of {@code settings.assignmentLease()}: one that ran out unjudged is reclaimed here (for any
     * annotator), so its task counts as needing an annotator again.
     */
    public CompletableFuture<Optional<ComparisonTask>> nextTask(String annotatorId) {
        return submit(() -> new AssignNextTask(annotatorId, settings.assignmentLease()));
    }

    /**
     * Up to {@code limit} tasks for {@code annotatorId}, in the order repeated {@link #nextTask}
     * calls would hand them out if the annotator judged each task before asking again: first those
     * already assigned to them and not yet judged, oldest first, then the oldest tasks that need more
     * annotators and that they have never been given or judged, which are all durably assigned to
     * them in one change. Empty when there is none.
     *
     * @throws IllegalArgumentException if {@code limit} is not positive
     */
    public CompletableFuture<List<ComparisonTask>> nextTasks(String annotatorId, int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive but was: " + limit);
        }
        return submit(() -> new AssignNextTasks(annotatorId, limit, settings.assignmentLease()));
    }

    private interface ChangeFactory<T> {
        StoreChange<T> create();
    }

    private <T> CompletableFuture<T> submit(ChangeFactory<T> factory) {
        try {
            return committer.submit(factory.create());
        } catch (ChangeRejectedException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Completes with the {@link StoreUnavailableException} changes fail with once the writer has failed (at once
     * for a dependent added after that); never if the store closes without failing. Its dependents run on the
     * writer thread before any change learns of the failure, so they must be quick.
     */
    public CompletionStage<StoreUnavailableException> failure() {
        return committer.failure();
    }

    // ---- queries -------------------------------------------------------------------------------

    public Optional<Prompt> prompt(String promptId) {
        try (StoreReader reader = latestReader()) {
            return reader.get(Column.PROMPTS, Keys.id(promptId), Prompt.parser());
        }
    }

    public Optional<ComparisonTask> task(String taskId) {
        try (StoreReader reader = latestReader()) {
            return reader.get(Column.TASKS, Keys.id(taskId), ComparisonTask.parser());
        }
    }

    public Optional<Judgment> judgment(String judgmentId) {
        try (StoreReader reader = latestReader()) {
            return reader.get(Column.JUDGMENTS, Keys.id(judgmentId), Judgment.parser());
        }
    }

    /** Sequence number of the last acknowledged judgment; 0 when there is none. */
    public long lastSequence() {
        try (StoreReader reader = latestReader()) {
            byte[] value = reader.get(Column.METADATA, MetadataKey.LAST_JUDGMENT_SEQUENCE.key());
            return value == null ? 0 : Keys.toNumber(value);
        }
    }

    /**
     * Up to {@code limit} judgments with sequence numbers above {@code afterSequence}, in sequence
     * order, read from one snapshot. Pass the last returned sequence to read the next page.
     */
    public List<Judgment> judgmentsSince(long afterSequence, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative but was: " + limit);
        }
        List<Judgment> judgments = new ArrayList<>();
        if (limit == 0) {
            return judgments;
        }
        try (StoreReader reader = snapshotReader()) {
            reader.scan(Column.JUDGMENT_LOG, Keys.number(afterSequence + 1), (key, judgmentId) -> {
                judgments.add(reader.get(Column.JUDGMENTS, judgmentId, Judgment.parser()).orElseThrow(() ->
                        database.accessError("resolve log entry #" + Keys.toNumber(key), Column.JUDGMENTS,
                                judgmentId, new IllegalStateException("judgment missing"))));
                return judgments.size() < limit;
            });
        }
        return judgments;
    }

    /** Number of judgments (skips included) per annotator, ordered by annotator id. */
    public Map<String, Long> judgmentCountsByAnnotator() {
        Map<String, Long> counts = new TreeMap<>();
        try (StoreReader reader = snapshotReader()) {
            reader.scan(Column.TASK_JUDGMENTS, new byte[0], (key, value) -> {
                counts.merge(Keys.pairSecond(key), 1L, Long::sum);
                return true;
            });
        }
        return counts;
    }

    /** Cohen's kappa of two annotators over the comparisons both judged (skips left out). */
    public Agreement cohensKappa(String firstAnnotator, String secondAnnotator) {
        return ratings().cohen(firstAnnotator, secondAnnotator);
    }

    /** Fleiss' kappa over the comparisons judged (skips left out) by exactly {@code ratingsPerItem} annotators. */
    public Agreement fleissKappa(int ratingsPerItem) {
        return ratings().fleiss(ratingsPerItem);
    }

    private ComparisonRatings ratings() {
        List<Judgment> all = new ArrayList<>();
        try (StoreReader reader = snapshotReader()) {
            reader.scan(Column.JUDGMENTS, new byte[0], (key, value) -> {
                all.add(reader.parse(Column.JUDGMENTS, key, value, Judgment.parser()));
                return true;
            });
        }
        return new ComparisonRatings(all);
    }

    /**
     * Inconsistencies between records and their indexes (a judgment without its log entry, a log
     * entry without its judgment, ...); empty for a healthy store.
     */
    public List<String> integrityProblems() {
        try (StoreReader reader = snapshotReader()) {
            return new IntegrityCheck(reader).problems();
        }
    }

    private StoreReader latestReader() {
        requireOpen();
        return StoreReader.latest(database);
    }

    private StoreReader snapshotReader() {
        requireOpen();
        return StoreReader.snapshot(database);
    }

    /** @throws StoreUnavailableException if the store is closed */
    private void requireOpen() {
        if (closed.get()) {
            throw StoreUnavailableException.closed();
        }
    }

    // ---- backup --------------------------------------------------------------------------------

    /**
     * Writes an online, consistent copy of the store to {@code target} (which must not exist) with
     * RocksDB's Checkpoint; files are hard-linked where possible. Restore by opening a store at
     * {@code target} (or a copy of it).
     */
    public void checkpoint(Path target) {
        requireOpen();
        database.checkpoint(target);
        LOG.info("Checkpoint of preference store {} written to {}", settings.path(), target);
    }

    /**
     * Commits every change already submitted (unless the writer has failed: they have failed then), stops the
     * writer thread, and closes the database.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        committer.close();
        database.close();
        LOG.info("Closed preference store {}", settings.path());
    }
}
