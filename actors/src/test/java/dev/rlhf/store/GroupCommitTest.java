package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertThrows(IllegalStateException.class, store::lastSequence);
    }
}
