package dev.rlhf.store;

import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.AgreementReport;
import dev.rlhf.proto.v1.Annotator;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Disagreement;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.LabelingOverview;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.proto.v1.QueueStatus;
import dev.rlhf.proto.v1.Retraction;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
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
    private final Clock clock;
    private final AnnotatorTokens tokens = new AnnotatorTokens(new SecureRandom());
    private final StoreDatabase database;
    private final SubmissionValidator validator;
    private final GroupCommitter committer;
    private final AtomicBoolean closed = new AtomicBoolean();

    private PreferenceStore(PreferenceStoreSettings settings, StoreDatabase database, Clock clock,
            UnaryOperator<GroupWrite> writeStep) {
        this.settings = settings;
        this.clock = clock;
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

    /**
     * Registers an annotator and returns their bearer token: 32 bytes from {@link SecureRandom}, base64url without
     * padding. Only its SHA-256 is stored, so the token cannot be shown again. Rejected with {@link
     * RejectionReason#INVALID_ID} for a name breaking the id rules (UTF-8, no NUL, at most 128 bytes) and {@link
     * RejectionReason#NAME_TAKEN} for a registered name, revoked ones included.
     */
    public CompletableFuture<String> addAnnotator(String name, boolean admin) {
        String token = tokens.fresh();
        return submit(() -> new AddAnnotator(name, admin, AnnotatorTokens.sha256(token))).thenApply(added -> token);
    }

    /**
     * Revokes an annotator's token: from the moment the future completes, {@link #annotatorByToken} finds no one
     * for it. Their record and judgments stay; revoking twice changes nothing. Rejected with {@link
     * RejectionReason#UNKNOWN_ANNOTATOR} for a name never registered.
     */
    public CompletableFuture<Annotator> revokeAnnotator(String name) {
        return submit(() -> new RevokeAnnotator(name));
    }

    /**
     * Takes back {@code annotatorId}'s judgment within {@code settings.undoWindow()} of its {@code judged_at} (on
     * the store's clock), once. The judgment stays in the log, marked retracted, and counts nowhere (counts, export,
     * agreement, queue status, training); the annotator may judge the task again and holds a fresh lease on it, so
     * {@link #nextTask} hands it to them before their other tasks. A retracted skip no longer counts as one.
     * Rejected with {@link RejectionReason#UNKNOWN_JUDGMENT} when {@code annotatorId} has no judgment of that id
     * (another annotator's included), {@link RejectionReason#ALREADY_RETRACTED} and {@link
     * RejectionReason#UNDO_WINDOW_PASSED}.
     */
    public CompletableFuture<Retraction> retractJudgment(String judgmentId, String annotatorId) {
        return submit(() -> new RetractJudgment(judgmentId, annotatorId, settings.undoWindow()));
    }

    /**
     * Records an adjudication of a stored task, replacing any earlier one; {@code adjudicated_at} is set by the store
     * and a pair (0, 0) becomes (0, 1). Rejected for an invalid task id or adjudicator, a task not stored ({@link
     * RejectionReason#UNKNOWN_TASK}), a choice that is unspecified or a skip, candidates out of range, or a note over
     * {@code rationaleMaxBytes} ({@link RejectionReason#RATIONALE_TOO_LONG}, field {@code note}).
     */
    public CompletableFuture<Adjudication> adjudicate(Adjudication adjudication) {
        return submit(() -> new RecordAdjudication(adjudication, settings.rationaleMaxBytes()));
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

    /** The retraction of a judgment; empty while it stands (or does not exist). */
    public Optional<Retraction> retraction(String judgmentId) {
        try (StoreReader reader = latestReader()) {
            return reader.get(Column.RETRACTIONS, Keys.id(judgmentId), Retraction.parser());
        }
    }

    /** The latest adjudication of a task; empty when it has none. */
    public Optional<Adjudication> adjudication(String taskId) {
        try (StoreReader reader = latestReader()) {
            return reader.get(Column.ADJUDICATIONS, Keys.id(taskId), Adjudication.parser());
        }
    }

    /**
     * The annotator whose token this is: the SHA-256 of {@code token} is looked up, then compared in constant time
     * with the annotator's stored hash. Empty for an unknown or revoked token (a revocation is seen by the first
     * lookup after its future completed).
     */
    public Optional<Annotator> annotatorByToken(String token) {
        byte[] hash = AnnotatorTokens.sha256(token);
        try (StoreReader reader = latestReader()) {
            byte[] name = reader.get(Column.ANNOTATOR_TOKENS, hash);
            if (name == null) {
                return Optional.empty();
            }
            return reader.get(Column.ANNOTATORS, name, Annotator.parser())
                    .filter(a -> !a.hasRevokedAt() && MessageDigest.isEqual(a.getTokenSha256().toByteArray(), hash));
        }
    }

    /** Every registered annotator, revoked ones included, by name. */
    public List<Annotator> annotators() {
        List<Annotator> annotators = new ArrayList<>();
        try (StoreReader reader = latestReader()) {
            reader.scan(Column.ANNOTATORS, new byte[0], (key, value) -> {
                annotators.add(reader.parse(Column.ANNOTATORS, key, value, Annotator.parser()));
                return true;
            });
        }
        return annotators;
    }

    /** Whether any annotator was ever registered (revoking them all does not turn authentication off). */
    public boolean hasAnnotators() {
        try (StoreReader reader = latestReader()) {
            boolean[] found = {false};
            reader.scan(Column.ANNOTATORS, new byte[0], (key, value) -> {
                found[0] = true;
                return false;
            });
            return found[0];
        }
    }

    /** Whether an admin annotator who is not revoked is registered. */
    public boolean hasAdmin() {
        return annotators().stream().anyMatch(a -> a.getAdmin() && !a.hasRevokedAt());
    }

    /**
     * An annotator's progress: their judgments (skips included, retracted ones not) at or after {@code since} and in
     * all, the tasks they could be handed now (unjudged, unreclaimed assignments plus open tasks they never saw), and
     * the undo window.
     */
    public QueueStatus queueStatus(String annotatorId, Instant since) {
        try (StoreReader reader = snapshotReader()) {
            return new LabelingQueries(reader).queueStatus(annotatorId, since, settings.undoWindow());
        }
    }

    /**
     * Every registered annotator and every id that judged, by name, with counts (retracted judgments left out) and
     * pace as of the store's clock, and the state of the queue.
     */
    public LabelingOverview labelingOverview() {
        try (StoreReader reader = snapshotReader()) {
            return new LabelingQueries(reader).overview(clock.instant(), settings.assignmentLease());
        }
    }

    /**
     * Up to {@code limit} tasks with at least two standing, non-skip judgments that differ on the true candidate
     * identity, oldest task first, each with its prompt, those judgments in sequence order and its adjudication.
     *
     * @throws IllegalArgumentException if {@code limit} is negative
     */
    public List<Disagreement> disagreements(int limit, boolean unadjudicatedOnly) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative but was: " + limit);
        }
        try (StoreReader reader = snapshotReader()) {
            return new LabelingQueries(reader).disagreements(limit, unadjudicatedOnly);
        }
    }

    /**
     * Agreement over the comparisons (task and candidate pair) with at least two standing, non-skip judgments, on
     * the labels first better, second better, tie and both bad: Krippendorff's alpha (nominal), percent agreement,
     * Cohen's kappa of every pair of annotators sharing at least {@code minSharedItems} comparisons, and each
     * annotator's agreement with the majority of the others.
     */
    public AgreementReport agreement(int minSharedItems) {
        return ratings().report(minSharedItems);
    }

    /** Number of judgments (skips included, retracted ones not) per annotator, ordered by annotator id. */
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

    /** Cohen's kappa of two annotators over the comparisons both judged (skips and retracted judgments left out). */
    public Agreement cohensKappa(String firstAnnotator, String secondAnnotator) {
        return ratings().cohen(firstAnnotator, secondAnnotator);
    }

    /** Fleiss' kappa over the comparisons judged (skips and retracted judgments left out) by exactly {@code ratingsPerItem} annotators. */
    public Agreement fleissKappa(int ratingsPerItem) {
        return ratings().fleiss(ratingsPerItem);
    }

    private ComparisonRatings ratings() {
        try (StoreReader reader = snapshotReader()) {
            return new ComparisonRatings(new LabelingQueries(reader).liveJudgments());
        }
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
