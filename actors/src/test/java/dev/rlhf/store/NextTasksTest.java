package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PreferenceStore#nextTasks} hands out what repeated {@link PreferenceStore#nextTask} would, in one change. */
class NextTasksTest {

    @TempDir Path dir;

    @Test
    void assignsTheSameTasksInTheSameOrderAsRepeatedNextTaskWithAJudgmentBetween() {
        List<String> oneByOne;
        List<String> judgedOneByOne;
        try (PreferenceStore store = PreferenceStore.open(settings(dir.resolve("one-by-one")))) {
            prepareMixedQueue(store);
            oneByOne = new ArrayList<>();
            Optional<ComparisonTask> next;
            while ((next = store.nextTask("alice").join()).isPresent()) {
                String taskId = next.get().getTaskId();
                oneByOne.add(taskId);
                store.submitJudgment(aliceJudges(taskId)).join();
            }
            judgedOneByOne = log(store);
        }
        List<String> inOneChange;
        List<String> judgedInOneChange;
        try (PreferenceStore store = PreferenceStore.open(settings(dir.resolve("in-one-change")))) {
            prepareMixedQueue(store);
            inOneChange = ids(store.nextTasks("alice", 100).join());
            // all sent before any ack, as PreferenceLoop sends them
            List<CompletableFuture<JudgmentAck>> acks = new ArrayList<>();
            inOneChange.forEach(taskId -> acks.add(store.submitJudgment(aliceJudges(taskId))));
            acks.forEach(CompletableFuture::join);
            assertEquals(List.of(), store.nextTasks("alice", 100).join(), "alice has judged everything she got");
            judgedInOneChange = log(store);
            assertEquals(List.of(), store.integrityProblems());
        }

        assertEquals(List.of("t2", "t3", "t5", "t7", "t8", "t9", "t10", "t11", "t12"), oneByOne,
                "the queue prepared for alice (t1 judged by her, t4 and t6 closed, t2 pending)");
        assertEquals(oneByOne, inOneChange, "one change must hand out what one call after another does");
        assertEquals(judgedOneByOne, judgedInOneChange, "the judgment log must come out the same");
    }

    @Test
    void aSmallLimitTakesTheSameTasksRoundByRound() {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            prepareMixedQueue(store);
            List<String> rounds = new ArrayList<>();
            List<ComparisonTask> round;
            do {
                round = store.nextTasks("alice", 4).join();
                rounds.addAll(ids(round));
                round.forEach(task -> store.submitJudgment(aliceJudges(task.getTaskId())).join());
            } while (!round.isEmpty());

            assertEquals(List.of("t2", "t3", "t5", "t7", "t8", "t9", "t10", "t11", "t12"), rounds);
        }
    }

    @Test
    void unjudgedAssignmentsComeBackOldestFirstNotInIdOrder() {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            addTasks(store, 12); // ids sort t1, t10, t11, t12, t2, ...; task numbers sort t1, t2, ..., t12

            assertEquals(12, store.nextTasks("alice", 12).join().size());
            assertEquals(List.of("t1", "t2", "t3"), ids(store.nextTasks("alice", 3).join()),
                    "asking again hands out the same assignments, oldest first");
            store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
            assertEquals("t2", store.nextTask("alice").join().orElseThrow().getTaskId(),
                    "nextTask must agree: t2 is older than t10");
            assertEquals(List.of("t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10", "t11", "t12"),
                    ids(store.nextTasks("alice", 100).join()));
        }
    }

    @Test
    void limitMustBePositive() {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> store.nextTasks("alice", 0));
            assertEquals("limit must be positive but was: 0", e.getMessage());
        }
    }

    /**
     * Tasks t1..t12 (2 annotators each) after some work by others: bob judged t1, t4 and t6 unassigned, carol
     * skipped t1 and judged t4, dave judged t6; alice judged t1 unassigned and holds t2.
     */
    private static void prepareMixedQueue(PreferenceStore store) {
        addTasks(store, 12);
        store.submitJudgment(judgment("b1", "t1", "bob", Choice.CHOICE_A)).join();
        store.submitJudgment(judgment("c1", "t1", "carol", Choice.CHOICE_SKIP)).join();
        store.submitJudgment(judgment("a1", "t1", "alice", Choice.CHOICE_B)).join();
        store.submitJudgment(judgment("b4", "t4", "bob", Choice.CHOICE_A)).join();
        store.submitJudgment(judgment("c4", "t4", "carol", Choice.CHOICE_TIE)).join();
        store.submitJudgment(judgment("b6", "t6", "bob", Choice.CHOICE_B)).join();
        store.submitJudgment(judgment("d6", "t6", "dave", Choice.CHOICE_A)).join();
        assertEquals("t2", store.nextTask("alice").join().orElseThrow().getTaskId());
    }

    /** Alice skips every third task by number, so some tasks stay open after her turn. */
    private static JudgmentSubmission aliceJudges(String taskId) {
        int number = Integer.parseInt(taskId.substring(1));
        return judgment("alice-" + taskId, taskId, "alice", number % 3 == 0 ? Choice.CHOICE_SKIP : Choice.CHOICE_A);
    }

    private static List<String> ids(List<ComparisonTask> tasks) {
        return new ArrayList<>(tasks.stream().map(ComparisonTask::getTaskId).toList());
    }

    /** The judgment log as "sequence judgmentId" lines. */
    private static List<String> log(PreferenceStore store) {
        return store.judgmentsSince(0, 1000).stream()
                .map((Judgment j) -> j.getSequence() + " " + j.getSubmission().getJudgmentId())
                .toList();
    }
}
