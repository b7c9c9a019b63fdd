package dev.rlhf.store;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
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
 */
final class GroupCommitter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitter.class);

    private record Pending<T>(StoreChange<T> change, CompletableFuture<T> future) {}

    private static final Pending<Void> STOP = new Pending<>(scope -> null, new CompletableFuture<>());

    private final StoreDatabase database;
    private final int maxBatch;
    private final Clock clock;
    private final BlockingQueue<Pending<?>> queue = new LinkedBlockingQueue<>();
    private final WriteOptions syncWrite = new WriteOptions().setSync(true);
    private final StoreReader committed;
    private final Thread writer;
    private long lastJudgmentSequence;
    private long lastTaskNumber;
    private boolean closed;

    GroupCommitter(StoreDatabase database, int maxBatch, Clock clock) {
        this.database = database;
        this.maxBatch = maxBatch;
        this.clock = clock;
        this.committed = StoreReader.latest(database);
        this.lastJudgmentSequence = readCounter(MetadataKey.LAST_JUDGMENT_SEQUENCE);
        this.lastTaskNumber = readCounter(MetadataKey.LAST_TASK_NUMBER);
        this.writer = new Thread(this::drainUntilStopped, "preference-store-writer");
        writer.setDaemon(true);
        writer.start();
    }

    private long readCounter(MetadataKey key) {
        byte[] value = committed.get(Column.METADATA, key.key());
        return value == null ? 0 : Keys.toNumber(value);
    }

    /**
     * Queues {@code change}; the future completes with its result once its writes are durable, or
     * exceptionally with {@link ChangeRejectedException} (nothing written) or {@link
     * StoreAccessException}.
     *
     * @throws IllegalStateException if the committer is closed
     */
    <T> CompletableFuture<T> submit(StoreChange<T> change) {
        Pending<T> pending = new Pending<>(change, new CompletableFuture<>());
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("preference store " + database.path() + " is closed");
            }
            queue.add(pending);
        }
        return pending.future();
    }

    private void drainUntilStopped() {
        List<Pending<?>> drained = new ArrayList<>(maxBatch);
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
            database.write(syncWrite, batch);
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

    /** Stops taking changes, commits every change already queued, and stops the writer thread. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            queue.add(STOP);
        }
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
