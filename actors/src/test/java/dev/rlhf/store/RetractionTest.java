package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.rejection;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteOptions;

/**
 * An annotator takes back their own judgment within the undo window, once: it stays in the log, counts nowhere, and
 * the task is theirs again, first. The window runs on the store's clock, moved by hand.
 */
class RetractionTest {
    private static final Duration WINDOW = Duration.ofMinutes(2);

    @TempDir Path dir;
    private final ManualClock clock = new ManualClock();
    private PreferenceStore store;

    @BeforeEach
    void openStore() {
        store = PreferenceStore.open(settings(dir).withUndoWindow(WINDOW), clock);
        addTasks(store, 3);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void aRetractedJudgmentStaysLoggedButCountsNowhereAndItsTaskComesBackFirst() throws Exception {
        assertEquals("t1", store.nextTask("alice").join().orElseThrow().getTaskId());
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        assertEquals("t2", store.nextTask("alice").join().orElseThrow().getTaskId());
        clock.advance(Duration.ofSeconds(30));

        store.retractJudgment("j1", "alice").join();

        assertTrue(store.judgment("j1").isPresent(), "the judgment stays");
        assertEquals(1, store.judgmentsSince(0, 10).size(), "and stays in the log");
        assertTrue(store.retraction("j1").isPresent());
        assertEquals(Map.of(), store.judgmentCountsByAnnotator());
        StringWriter out = new StringWriter();
        assertEquals(0, new PreferenceJsonl(store).export(PreferenceFormat.TRL, out), out.toString());
        assertEquals(0, store.queueStatus("alice", Instant.EPOCH).getJudgedTotal());
        assertEquals(List.of("t1", "t2"), store.nextTasks("alice", 5).join().stream()
                .map(ComparisonTask::getTaskId).limit(2).toList(), "the retracted task is handed out first");
        assertEquals(List.of(), store.integrityProblems());

        store.submitJudgment(judgment("j1b", "t1", "alice", Choice.CHOICE_B)).join();
        assertEquals(Map.of("alice", 1L), store.judgmentCountsByAnnotator(), "the task is judged again");
        assertEquals(List.of(), store.integrityProblems());
    }

    @Test
    void aRetractedTaskComesBeforeAnOlderTaskStillAssigned() {
        assertEquals(List.of("t1", "t2"), store.nextTasks("alice", 2).join().stream()
                .map(ComparisonTask::getTaskId).toList());
        store.submitJudgment(judgment("j2", "t2", "alice", Choice.CHOICE_A)).join();

        store.retractJudgment("j2", "alice").join();

        assertEquals("t2", store.nextTask("alice").join().orElseThrow().getTaskId());
        assertEquals(List.of("t2", "t1", "t3"), store.nextTasks("alice", 3).join().stream()
                .map(ComparisonTask::getTaskId).toList());
    }

    @Test
    void onlyTheOwnAnnotatorWithinTheWindowAndOnlyOnce() {
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        store.submitJudgment(judgment("j2", "t2", "alice", Choice.CHOICE_A)).join();

        ChangeRejectedException other = rejection(store.retractJudgment("j1", "bob"));
        ChangeRejectedException unknown = rejection(store.retractJudgment("nope", "alice"));
        store.retractJudgment("j1", "alice").join();
        ChangeRejectedException twice = rejection(store.retractJudgment("j1", "alice"));
        clock.advance(WINDOW.plusMillis(1));
        ChangeRejectedException late = rejection(store.retractJudgment("j2", "alice"));

        assertEquals(RejectionReason.UNKNOWN_JUDGMENT, other.reason(), "another's judgment is as good as none");
        assertEquals(RejectionReason.UNKNOWN_JUDGMENT, unknown.reason());
        assertEquals(RejectionReason.ALREADY_RETRACTED, twice.reason());
        assertEquals(RejectionReason.UNDO_WINDOW_PASSED, late.reason());
        assertEquals("judgment_id", late.field());
        assertEquals(Map.of("alice", 1L), store.judgmentCountsByAnnotator());
    }

    @Test
    void aJudgmentExactlyAtTheEdgeOfTheWindowCanStillBeRetracted() {
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        clock.advance(WINDOW);

        store.retractJudgment("j1", "alice").join();

        assertTrue(store.retraction("j1").isPresent());
    }

    @Test
    void aRetractedSkipNoLongerCountsAsOneAndTheTaskStaysConsistent() {
        store.submitJudgment(judgment("s1", "t1", "alice", Choice.CHOICE_SKIP)).join();
        store.submitJudgment(judgment("j1", "t1", "bob", Choice.CHOICE_A)).join();
        store.submitJudgment(judgment("j2", "t1", "carol", Choice.CHOICE_A)).join();
        assertTrue(store.nextTasks("dave", 5).join().stream().noneMatch(t -> t.getTaskId().equals("t1")),
                "two answers close the task; the skip did not count");

        store.retractJudgment("s1", "alice").join();

        assertEquals(List.of(), store.integrityProblems());
        assertEquals("t1", store.nextTask("alice").join().orElseThrow().getTaskId(),
                "alice holds a fresh lease on t1");
    }

    @Test
    void aRetractedJudgmentIdCannotBeSentAgainAndReopeningKeepsTheRetraction() {
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        store.retractJudgment("j1", "alice").join();

        ChangeRejectedException reused = rejection(store.submitJudgment(judgment("j1", "t1", "alice",
                Choice.CHOICE_A)));
        store.close();
        store = PreferenceStore.open(settings(dir).withUndoWindow(WINDOW), clock);

        assertEquals(RejectionReason.ID_CONFLICT, reused.reason(), reused.getMessage());
        assertTrue(store.retraction("j1").isPresent());
        assertEquals(Map.of(), store.judgmentCountsByAnnotator());
        assertEquals(List.of(), store.integrityProblems());
    }

    @Test
    void integrityCheckFlagsARetractedJudgmentThatStillHoldsItsTaskEntry() throws Exception {
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        store.retractJudgment("j1", "alice").join();
        store.close();
        try (StoreDatabase database = StoreDatabase.open(settings(dir).path());
                WriteOptions sync = new WriteOptions().setSync(true)) {
            database.db().put(database.handle(Column.TASK_JUDGMENTS), sync, Keys.pair("t1", "alice"), Keys.id("j1"));
        }
        store = PreferenceStore.open(settings(dir).withUndoWindow(WINDOW), clock);

        assertEquals(List.of("retracted judgment j1 still holds its task/annotator entry",
                "assignment of task t1 to alice outlived its judgment"), store.integrityProblems());
    }
}
