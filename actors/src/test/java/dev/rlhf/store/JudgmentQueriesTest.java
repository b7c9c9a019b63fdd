package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JudgmentQueriesTest {

    @TempDir Path dir;

    @Test
    void judgmentsSinceReadsTheLogInSequenceOrderPageByPage() {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            addTasks(store, 5);
            for (int i = 1; i <= 5; i++) {
                store.submitJudgment(judgment("j" + i, "t" + i, "alice", Choice.CHOICE_A)).join();
            }

            List<Judgment> firstPage = store.judgmentsSince(0, 2);
            List<Judgment> rest = store.judgmentsSince(firstPage.get(1).getSequence(), 10);

            assertEquals(List.of("j1", "j2"), ids(firstPage));
            assertEquals(List.of("j3", "j4", "j5"), ids(rest));
            assertEquals(List.of(), store.judgmentsSince(5, 10));
        }
    }

    @Test
    void countsPerAnnotatorIncludeSkipsAndSurviveReopening() {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            addTasks(store, 3);
            store.submitJudgment(judgment("a1", "t1", "alice", Choice.CHOICE_A)).join();
            store.submitJudgment(judgment("a2", "t2", "alice", Choice.CHOICE_SKIP)).join();
            store.submitJudgment(judgment("b1", "t1", "bob", Choice.CHOICE_B)).join();
        }

        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            assertEquals(Map.of("alice", 2L, "bob", 1L), store.judgmentCountsByAnnotator());
            assertEquals(4, store.submitJudgment(judgment("c1", "t3", "carol", Choice.CHOICE_A)).join().sequence(),
                    "the sequence continues after reopening");
        }
    }

    private static List<String> ids(List<Judgment> judgments) {
        return judgments.stream().map(j -> j.getSubmission().getJudgmentId()).toList();
    }
}
