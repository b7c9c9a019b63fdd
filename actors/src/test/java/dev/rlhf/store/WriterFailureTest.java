package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What the store does once its writer thread is hit by something no change or write is expected to throw. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WriterFailureTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir Path dir;

    @Test
    void anErrorWhileWritingFailsTheGroupAndTheQueuedChangesAndEveryLaterChangeAtOnce() throws Exception {
        WriteFaults faults = new WriteFaults();
        PreferenceStore store = faults.open(settings(dir));
        addTasks(store, 4);
        Error injected = new Error("cannot sync " + dir.resolve("db").toAbsolutePath() + "/000009.log");

        faults.hold();
        CompletableFuture<JudgmentAck> written = store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A));
        faults.awaitHeld(WAIT);
        List<CompletableFuture<JudgmentAck>> queued = List.of(
                store.submitJudgment(judgment("j2", "t2", "alice", Choice.CHOICE_A)),
                store.submitJudgment(judgment("j3", "t3", "alice", Choice.CHOICE_A)));
        faults.failNextWith(injected);
        faults.release();
        StoreUnavailableException groupFailure = unavailable(written);
        CompletableFuture<JudgmentAck> later = store.submitJudgment(judgment("j4", "t4", "alice", Choice.CHOICE_A));

        assertSame(injected, groupFailure.getCause(), "the failure keeps what the writer was hit by");
        assertTrue(groupFailure.getMessage().contains("failed") && groupFailure.getMessage().contains("cannot sync"),
                "the message says the store failed and why: " + groupFailure.getMessage());
        assertFalse(groupFailure.getMessage().contains(dir.toString()),
                "the message must not name the store's directory: " + groupFailure.getMessage());
        for (CompletableFuture<JudgmentAck> change : queued) {
            assertSame(groupFailure, unavailable(change), "queued changes fail with the same exception");
        }
        assertTrue(later.isDone(), "a change after the failure must fail at once, not wait for a writer");
        assertSame(groupFailure, unavailable(later));
        assertSame(groupFailure, store.failure().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(0, store.lastSequence(), "reads still work, and nothing of the failed group was written");
        assertTimeoutPreemptively(WAIT, store::close, "closing a failed store must not wait for its dead writer");
    }

    @Test
    void aStoreReopenedAfterItsWriterFailedTakesChangesAgain() throws Exception {
        WriteFaults faults = new WriteFaults();
        try (PreferenceStore store = faults.open(settings(dir))) {
            addTasks(store, 1);
            faults.failNextWith(new OutOfMemoryError("injected"));
            unavailable(store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)));
        }

        try (PreferenceStore reopened = PreferenceStore.open(settings(dir))) {
            JudgmentAck ack = reopened.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);

            assertEquals(1, ack.sequence(), "the failed write left no trace, so j1 is the first judgment");
        }
    }

    @Test
    void failureDependentsRunBeforeAnyChangeLearnsOfTheFailure() throws Exception {
        WriteFaults faults = new WriteFaults();
        try (PreferenceStore store = faults.open(settings(dir))) {
            addTasks(store, 1);
            faults.hold();
            CompletableFuture<JudgmentAck> written =
                    store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A));
            faults.awaitHeld(WAIT);
            AtomicBoolean changeFailedFirst = new AtomicBoolean(true);
            store.failure().thenRun(() -> changeFailedFirst.set(written.isDone()));

            faults.failNextWith(new StackOverflowError());
            faults.release();
            unavailable(written);

            assertFalse(changeFailedFirst.get(), "a dependent of failure() ran after a change had already failed");
        }
    }

    @Test
    void anErrorFromAChangeFailsTheCommitterLikeOneFromTheWrite() throws Exception {
        try (StoreDatabase database = StoreDatabase.open(dir.resolve("db"))) {
            GroupCommitter committer =
                    new GroupCommitter(database, 16, 16, Clock.systemUTC(), UnaryOperator.identity());
            try {
                CompletableFuture<Object> broken = committer.submit(scope -> {
                    throw new AssertionError("a change gone wrong");
                });
                StoreUnavailableException failure = unavailable(broken);
                CompletableFuture<Object> later = committer.submit(scope -> "fine");

                assertInstanceOf(AssertionError.class, failure.getCause());
                assertTrue(later.isDone(), "a change after the failure must fail at once");
                assertSame(failure, unavailable(later));
            } finally {
                assertTimeoutPreemptively(WAIT, committer::close);
            }
        }
    }

    @Test
    void aClosedStoreRefusesChangesAndReadsAsUnavailableWithoutItsPath() {
        PreferenceStore store = PreferenceStore.open(settings(dir));
        store.close();

        StoreUnavailableException change =
                unavailable(store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)));
        StoreUnavailableException read = assertThrows(StoreUnavailableException.class, store::lastSequence);

        assertTrue(change.getMessage().contains("closed"), change.getMessage());
        assertFalse(change.getMessage().contains(dir.toString()), change.getMessage());
        assertFalse(read.getMessage().contains(dir.toString()), read.getMessage());
    }

    /** The exception {@code change} failed with, waiting at most {@link #WAIT} for it. */
    private static StoreUnavailableException unavailable(CompletableFuture<?> change) {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> change.get(WAIT.toSeconds(), TimeUnit.SECONDS), "the change should have failed");
        return assertInstanceOf(StoreUnavailableException.class, e.getCause());
    }
}
