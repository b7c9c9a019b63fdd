package dev.rlhf.store;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.UnaryOperator;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: one writer thread drains the queue of pending changes, runs them in order, merges
 * the accepted ones into one WriteBatch written with sync=true, and only then completes their
 * futures. Concurrent callers thus share one fsync, and since every change runs on this thread,
 * checks such as "this annotator has not judged this task" cannot race.
 *
 * <p>At most {@code maxQueued} changes wait for the writer; one more is refused at once. Anything the writer
 * thread throws that a change or a write is not expected to throw (an {@link Error} included) fails the committer
 * for good: the changes in hand and those queued fail with {@link StoreUnavailableException}, and so does every
 * later submission, at once.
 */
final class GroupCommitter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitter.class);

    private record Pending<T>(StoreChange<T> change, CompletableFuture<T> future) {}

    private static final Pending<Void> STOP = new Pending<>(scope -> null, new CompletableFuture<>());

    private final StoreDatabase database;
    private final int maxBatch;
    private final int maxQueued;
    private final Clock clock;
    private final BlockingQueue<Pending<?>> queue;
    private final WriteOptions syncWrite = new WriteOptions().setSync(true);
    private final GroupWrite write;
    private final StoreReader committed;
    private final CompletableFuture<StoreUnavailableException> failure = new CompletableFuture<>();
    private final Thread writer;
    private long lastJudgmentSequence;
    private long lastTaskNumber;
    private boolean closed;
    private StoreUnavailableException failed;

    /**
     * Starts the writer thread.
     *
     * @param maxBatch most changes merged into one synced write
     * @param maxQueued most changes waiting for the writer
     * @param writeStep wraps the synced write of each group ({@link UnaryOperator#identity()} but in tests, which
     *     hold or break writes with it)
     */
    GroupCommitter(StoreDatabase database, int maxBatch, int maxQueued, Clock clock,
            UnaryOperator<GroupWrite> writeStep) {
        this.database = database;
        this.maxBatch = maxBatch;
        this.maxQueued = maxQueued;
        this.clock = clock;
        this.queue = new LinkedBlockingQueue<>(maxQueued);
        this.write = writeStep.apply(batch -> database.write(syncWrite, batch));
        this.committed = StoreReader.latest(database);
        this.lastJudgmentSequence = readCounter(MetadataKey.LAST_JUDGMENT_SEQUENCE);
        this.lastTaskNumber = readCounter(MetadataKey.LAST_TASK_NUMBER);
        this.writer = new Thread(this::runWriter, "preference-store-writer");
        writer.setDaemon(true);
        writer.start();
    }

    private long readCounter(MetadataKey key) {
        byte[] value = committed.get(Column.METADATA, key.key());
        return value == null ? 0 : Keys.toNumber(value);
    }

    /**
     * Queues {@code change}; the future completes with its result once its writes are durable, or
     * exceptionally with {@link ChangeRejectedException} (nothing written), {@link StoreAccessException},
     * {@link StoreUnavailableException} (at once when the committer is closed or failed) or {@link
     * StoreOverloadedException} (at once when {@code maxQueued} changes are waiting).
     */
    <T> CompletableFuture<T> submit(StoreChange<T> change) {
        Pending<T> pending = new Pending<>(change, new CompletableFuture<>());
        synchronized (this) {
            if (failed != null) {
                return CompletableFuture.failedFuture(failed);
            }
            if (closed) {
                return CompletableFuture.failedFuture(StoreUnavailableException.closed());
            }
            if (!queue.offer(pending)) {
                return CompletableFuture.failedFuture(new StoreOverloadedException(maxQueued));
            }
        }
        return pending.future();
    }

    /**
     * Completes with the exception changes fail with once the writer has failed; never if the committer closes
     * without failing. Its dependents run on the writer thread before any change learns of the failure, so they
     * must be quick.
     */
    CompletionStage<StoreUnavailableException> failure() {
        return failure.minimalCompletionStage();
    }

    private void runWriter() {
        List<Pending<?>> drained = new ArrayList<>(maxBatch);
        try {
            drainUntilStopped(drained);
        } catch (Throwable e) {
            fail(e, drained);
        }
    }

    private void drainUntilStopped(List<Pending<?>> drained) {
        boolean stopping = false;
        while (!stopping) {
            drained.clear();
            drained.add(takeUninterruptibly());
            queue.drainTo(drained, maxBatch - 1);
            CommitGroup group = new CommitGroup(lastJudgmentSequence, lastTaskNumber);
            for (Pending<?> pending : drained) {
                if (pending == STOP) {
                    stopping = true;
                    continue;
                }
                if (pending.change().scansCommittedState() && !group.isEmpty()) {
                    commit(group);
                    group = new CommitGroup(lastJudgmentSequence, lastTaskNumber);
                }
                run(pending, group);
            }
            commit(group);
        }
    }

    private Pending<?> takeUninterruptibly() {
        while (true) {
            try {
                return queue.take();
            } catch (InterruptedException e) {
                LOG.warn("Preference store writer interrupted; it stops only through close()");
            }
        }
    }

    /** Queues the stop mark even when the queue is full: a running writer makes room, a failed one has emptied it. */
    private void putUninterruptibly(Pending<?> pending) {
        boolean interrupted = false;
        while (true) {
            try {
                queue.put(pending);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private <T> void run(Pending<T> pending, CommitGroup group) {
        ChangeScope scope = new ChangeScope(group, committed, clock.instant());
        try {
            T result = pending.change().apply(scope);
            group.accept(scope, () -> pending.future().complete(result), pending.future()::completeExceptionally);
        } catch (ChangeRejectedException e) {
            pending.future().completeExceptionally(e);
        } catch (RuntimeException e) {
            LOG.warn("Preference store change failed unexpectedly", e);
            pending.future().completeExceptionally(e);
        }
    }

    private void commit(CommitGroup group) {
        if (group.isEmpty()) {
            return;
        }
        try (WriteBatch batch = new WriteBatch()) {
            for (Map.Entry<ChangeScope.Cell, ChangeScope.Write> write : group.writes().entrySet()) {
                byte[] key = new byte[write.getKey().key().remaining()];
                write.getKey().key().duplicate().get(key);
                byte[] value = write.getValue().value();
                if (value == null) {
                    batch.delete(database.handle(write.getKey().column()), key);
                } else {
                    batch.put(database.handle(write.getKey().column()), key, value);
                }
            }
            if (group.advancedJudgmentSequence()) {
                batch.put(database.handle(Column.METADATA), MetadataKey.LAST_JUDGMENT_SEQUENCE.key(),
                        Keys.number(group.lastJudgmentSequence()));
            }
            if (group.advancedTaskNumber()) {
                batch.put(database.handle(Column.METADATA), MetadataKey.LAST_TASK_NUMBER.key(),
                        Keys.number(group.lastTaskNumber()));
            }
            write.write(batch);
        } catch (RocksDBException | StoreAccessException e) {
            LOG.error("Preference store {}: group commit of {} writes failed; none stored", database.path(),
                    group.writes().size(), e);
            group.completeFailed(e instanceof StoreAccessException ? e
                    : new StoreAccessException("preference store " + database.path() + ": staging a write failed: "
                            + e.getMessage(), e));
            return;
        }
        lastJudgmentSequence = group.lastJudgmentSequence();
        lastTaskNumber = group.lastTaskNumber();
        group.completeDurable();
    }

    /**
     * Fails the committer for good: from now on nothing is queued; the changes in hand (those of the group being
     * written included, whether or not their write reached the disk) and those queued fail with the same {@link
     * StoreUnavailableException}, which is also what {@link #failure()} completes with.
     */
    private void fail(Throwable cause, List<Pending<?>> inHand) {
        StoreUnavailableException unavailable = StoreUnavailableException.failed(cause, database.path());
        synchronized (this) {
            failed = unavailable;
        }
        LOG.error("Preference store {}: the writer thread failed; every change from now on fails until the store "
                + "is reopened", database.path(), cause);
        failure.complete(unavailable);
        List<Pending<?>> queued = new ArrayList<>();
        queue.drainTo(queued);
        for (List<Pending<?>> pendings : List.of(inHand, queued)) {
            for (Pending<?> pending : pendings) {
                if (pending != STOP) {
                    pending.future().completeExceptionally(unavailable);
                }
            }
        }
    }

    /**
     * Stops taking changes, commits every change already queued (or, if the writer has failed, leaves them failed),
     * and stops the writer thread.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        putUninterruptibly(STOP);
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        committed.close();
        syncWrite.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
