package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.LEASE;
import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.rejection;
import static dev.rlhf.store.StoreFixture.settings;
import static dev.rlhf.store.StoreFixture.task;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Assignments are leases of {@link StoreFixture#LEASE}; the store's clock is moved by hand, nothing sleeps. */
class AssignmentLeaseTest {

    @TempDir Path dir;
    private final ManualClock clock = new ManualClock();
    private PreferenceStore store;

    @BeforeEach
    void openStore() {
        store = PreferenceStore.open(settings(dir), clock);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    private void addSingleAnnotatorTask(String id) {
        store.addPrompt(StoreFixture.prompt("p", "Name a colour.")).join();
        store.addTask(task(id, "p", "red", "blue").toBuilder().setAnnotationsNeeded(1).build()).join();
    }

    private String next(String annotator) {
        return store.nextTask(annotator).join().map(ComparisonTask::getTaskId).orElse("none");
    }

    @Test
    void anAssignmentOlderThanTheLeaseNoLongerKeepsTheTaskFromAnotherAnnotator() {
        addSingleAnnotatorTask("single");
        assertEquals("single", next("alice"));

        clock.advance(LEASE.plusSeconds(1));

        assertEquals("single", next("bob"), "alice's lease ran out unjudged, so the task needs an annotator again");
        assertEquals("none", next("carol"), "bob's fresh lease holds the only annotation");
    }

    @Test
    void aFreshAssignmentStillKeepsTheTaskFromAnotherAnnotator() {
        addSingleAnnotatorTask("single");
        assertEquals("single", next("alice"));

        clock.advance(LEASE.minusSeconds(1));

        assertEquals("none", next("bob"), "alice's lease still holds");
        assertEquals("single", next("alice"), "alice still has it to judge");
    }

    @Test
    void theFormerHolderMayTakeTheTaskAgainWithAFreshLease() {
        addSingleAnnotatorTask("single");
        assertEquals("single", next("alice"));

        clock.advance(LEASE);
        assertEquals("single", next("alice"), "reclaimed and handed out anew, to alice first since she asked");
        clock.advance(LEASE.minusSeconds(1));

        assertEquals("none", next("bob"), "alice's new lease holds from her second request");
    }

    @Test
    void aLateJudgmentCountsWhileTheTaskNeedsOneAndIsRejectedOnceItDoesNot() {
        addTasks(store, 1); // t1, store default: 2 annotators
        assertEquals("t1", next("alice"));
        assertEquals("t1", next("bob"));

        clock.advance(LEASE.plusMinutes(1));
        assertEquals("t1", next("carol"), "both leases are reclaimed; carol takes one of the two annotations");
        store.submitJudgment(judgment("j-alice", "t1", "alice", Choice.CHOICE_A)).join();

        ChangeRejectedException late = rejection(store.submitJudgment(judgment("j-bob", "t1", "bob", Choice.CHOICE_B)));
        assertEquals(RejectionReason.LEASE_EXPIRED, late.reason(), late.getMessage());
        assertEquals("task_id", late.field());
        assertEquals("none", next("dave"), "alice's late judgment and carol's lease fill t1");
        assertEquals(List.of(), store.integrityProblems());
    }

    @Test
    void nextTasksHandsOutReclaimedTasksInTaskOrderWithTheOpenOnes() {
        store.addPrompt(StoreFixture.prompt("p", "Name a colour.")).join();
        for (String id : List.of("t1", "t2", "t3")) {
            store.addTask(task(id, "p", "red", "blue").toBuilder().setAnnotationsNeeded(1).build()).join();
        }
        assertEquals("t1", next("alice"));
        assertEquals("t2", next("bob"));

        clock.advance(LEASE.plusSeconds(1));

        assertEquals(List.of("t1", "t2", "t3"), store.nextTasks("carol", 3).join().stream()
                .map(ComparisonTask::getTaskId).toList());
        assertEquals(Optional.empty(), store.nextTask("alice").join(), "carol holds all three now");
    }
}
