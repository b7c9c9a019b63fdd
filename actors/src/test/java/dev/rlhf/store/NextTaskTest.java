package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static dev.rlhf.store.StoreFixture.task;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NextTaskTest {

    @TempDir Path dir;
    private PreferenceStore store;

    @BeforeEach
    void openStore() {
        store = PreferenceStore.open(settings(dir));
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void handsOutOldestTasksAndClosesEachAfterItsAnnotationsNeeded() {
        addTasks(store, 2); // store default: 2 annotators per task

        assertEquals("t1", next("alice"));
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        assertEquals("t2", next("alice"), "alice never gets t1 again");
        assertEquals("t1", next("bob"));
        assertEquals("t2", next("carol"), "t1 has its 2 annotators");
        assertEquals(Optional.empty(), store.nextTask("dave").join(), "both tasks have their 2 annotators");
    }

    @Test
    void perTaskAnnotationsNeededOverridesTheStoreDefault() {
        store.addPrompt(StoreFixture.prompt("p", "Name a colour.")).join();
        store.addTask(task("single", "p", "red", "blue").toBuilder().setAnnotationsNeeded(1).build()).join();

        assertEquals("single", next("alice"));
        assertEquals(Optional.empty(), store.nextTask("bob").join());
    }

    @Test
    void unjudgedAssignmentIsHandedOutAgainUntilJudged() {
        addTasks(store, 3);

        assertEquals("t1", next("alice"));
        assertEquals("t1", next("alice"));
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_TIE)).join();
        assertEquals("t2", next("alice"));
    }

    @Test
    void skipFreesTheSlotForAnotherAnnotatorButNotForTheSkipper() {
        store.addPrompt(StoreFixture.prompt("p", "Name a colour.")).join();
        store.addTask(task("single", "p", "red", "blue").toBuilder().setAnnotationsNeeded(1).build()).join();

        assertEquals("single", next("alice"));
        store.submitJudgment(judgment("j1", "single", "alice", Choice.CHOICE_SKIP)).join();

        assertEquals(Optional.empty(), store.nextTask("alice").join());
        assertEquals("single", next("bob"));
        assertEquals(List.of(), store.integrityProblems());
    }

    @Test
    void judgingWithoutAssignmentCountsTowardsTheTask() {
        addTasks(store, 2);
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        store.submitJudgment(judgment("j2", "t1", "bob", Choice.CHOICE_A)).join();

        assertEquals("t2", next("carol"));
        assertEquals("t2", next("alice"), "alice judged t1 unassigned and is not handed it");
    }

    @Test
    void concurrentRequestsOfOneAnnotatorAllGetTheSameSingleAssignment() throws Exception {
        addTasks(store, 20);
        List<Optional<ComparisonTask>> results = requestConcurrently(32, "alice");

        Set<String> handedOut = new HashSet<>();
        results.forEach(r -> handedOut.add(r.orElseThrow().getTaskId()));
        assertEquals(Set.of("t1"), handedOut, "alice must hold one assignment, not one per request");
    }

    @Test
    void concurrentRequestsNeverGiveATaskToOneAnnotatorTwiceOrToTooMany() throws Exception {
        int tasks = 10;
        int annotators = 8;
        addTasks(store, tasks);
        ExecutorService pool = Executors.newFixedThreadPool(annotators * 2);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> running = new ArrayList<>();
        // Two threads per annotator race each other and all the others; each judges what it gets.
        for (int t = 0; t < annotators * 2; t++) {
            String annotator = "a" + (t % annotators);
            running.add(pool.submit(() -> {
                start.await();
                while (true) {
                    Optional<ComparisonTask> next = store.nextTask(annotator).join();
                    if (next.isEmpty()) {
                        return null;
                    }
                    String taskId = next.get().getTaskId();
                    // Both threads of an annotator may get the same assignment; they send the same judgment.
                    store.submitJudgment(judgment(annotator + "-" + taskId, taskId, annotator, Choice.CHOICE_A))
                            .join();
                }
            }));
        }
        start.countDown();
        for (Future<?> f : running) {
            f.get();
        }
        pool.shutdown();

        Map<String, Long> judgmentsPerTask = new HashMap<>();
        store.judgmentsSince(0, 1000).forEach(j -> judgmentsPerTask.merge(j.getSubmission().getTaskId(), 1L, Long::sum));
        assertEquals(tasks, judgmentsPerTask.size(), "every task gets judged");
        judgmentsPerTask.forEach((taskId, n) -> assertEquals(StoreFixture.ANNOTATIONS_PER_TASK, n,
                "task " + taskId + " needs exactly " + StoreFixture.ANNOTATIONS_PER_TASK + " distinct annotators"));
        assertEquals((long) tasks * StoreFixture.ANNOTATIONS_PER_TASK,
                store.judgmentCountsByAnnotator().values().stream().mapToLong(Long::longValue).sum());
        assertEquals(List.of(), store.integrityProblems());
    }

    private String next(String annotator) {
        return store.nextTask(annotator).join().orElseThrow(() -> new AssertionError("no task for " + annotator))
                .getTaskId();
    }

    private List<Optional<ComparisonTask>> requestConcurrently(int threads, String annotator) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Optional<ComparisonTask>>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            futures.add(pool.submit(() -> {
                start.await();
                return store.nextTask(annotator).join();
            }));
        }
        start.countDown();
        List<Optional<ComparisonTask>> results = new ArrayList<>();
        for (Future<Optional<ComparisonTask>> f : futures) {
            results.add(f.get());
        }
        pool.shutdown();
        return results;
    }
}
