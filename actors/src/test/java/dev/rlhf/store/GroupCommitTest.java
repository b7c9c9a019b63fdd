package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupCommitTest {

    @TempDir Path dir;

    @Test
    void concurrentWritersAllGetDistinctContiguousSequences() throws Exception {
        int writers = 16;
        int perWriter = 40;
        List<JudgmentAck> acks = new ArrayList<>();
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            addTasks(store, perWriter);
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            List<Future<List<JudgmentAck>>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String annotator = "annotator-" + w;
                results.add(pool.submit(() -> {
                    List<JudgmentAck> mine = new ArrayList<>();
                    for (int i = 1; i <= perWriter; i++) {
                        mine.add(store.submitJudgment(judgment(annotator + "-" + i, "t" + i, annotator,
                                Choice.CHOICE_A)).join());
                    }
                    return mine;
                }));
            }
            for (Future<List<JudgmentAck>> result : results) {
                acks.addAll(result.get());
            }
            pool.shutdown();

            Set<Long> sequences = acks.stream().map(JudgmentAck::sequence).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(LongStream.rangeClosed(1, writers * perWriter).boxed().collect(Collectors.toSet()), sequences,
                    "every ack needs its own sequence number, with no gaps");
            assertEquals(List.of(), store.integrityProblems());
        }
    }

    @Test
    void closingCommitsEveryQueuedChangeBeforeStopping() {
        int count = 300;
        List<CompletableFuture<JudgmentAck>> futures = new ArrayList<>();
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            addTasks(store, count);
            for (int i = 1; i <= count; i++) {
                futures.add(store.submitJudgment(judgment("j" + i, "t" + i, "alice", Choice.CHOICE_B)));
            }
        }
        futures.forEach(CompletableFuture::join);

        try (PreferenceStore reopened = PreferenceStore.open(settings(dir))) {
            List<Judgment> stored = reopened.judgmentsSince(0, count + 1);
            assertEquals(count, stored.size());
            assertEquals(count, reopened.lastSequence());
        }
    }

    @Test
    void changesAfterCloseFailWithoutTouchingTheDatabase() {
        PreferenceStore store = PreferenceStore.open(settings(dir));
        addTasks(store, 1);
        store.close();

        CompletionException e = assertThrows(CompletionException.class,
                () -> store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join());
        assertInstanceOf(StoreUnavailableException.class, e.getCause());
        assertThrows(StoreUnavailableException.class, store::lastSequence);
    }

    @Test
    void aChangeThatFindsTheQueueFullFailsAtOnceAndTheQueuedOnesStillCommit() throws Exception {
        int maxQueued = 2;
        WriteFaults faults = new WriteFaults();
        try (PreferenceStore store = faults.open(new PreferenceStoreSettings(dir.resolve("db"),
                StoreFixture.ANNOTATIONS_PER_TASK, StoreFixture.RATIONALE_MAX_BYTES, 3, 256, maxQueued,
                StoreFixture.LEASE))) {
            addTasks(store, 4);
            faults.hold();
            List<CompletableFuture<JudgmentAck>> accepted = new ArrayList<>();
            accepted.add(store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)));
            faults.awaitHeld(Duration.ofSeconds(10));
            for (int i = 2; i <= 1 + maxQueued; i++) {
                accepted.add(store.submitJudgment(judgment("j" + i, "t" + i, "alice", Choice.CHOICE_A)));
            }

            CompletableFuture<JudgmentAck> refused =
                    store.submitJudgment(judgment("j4", "t4", "alice", Choice.CHOICE_A));
            boolean refusedAtOnce = refused.isDone();
            faults.release();
            List<Long> sequences = new ArrayList<>();
            for (CompletableFuture<JudgmentAck> change : accepted) {
                sequences.add(change.get(10, TimeUnit.SECONDS).sequence());
            }
            JudgmentAck resent = store.submitJudgment(judgment("j4", "t4", "alice", Choice.CHOICE_A))
                    .get(10, TimeUnit.SECONDS);

            assertTrue(refusedAtOnce, "a change that finds the queue full must fail at once, not wait for room");
            CompletionException e = assertThrows(CompletionException.class, refused::join);
            assertInstanceOf(StoreOverloadedException.class, e.getCause());
            assertEquals(List.of(1L, 2L, 3L), sequences, "the held and the queued changes commit once released");
            assertEquals(4, resent.sequence(), "the refused change left no trace and may be sent again");
        }
    }
}
