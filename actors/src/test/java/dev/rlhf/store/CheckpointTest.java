package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    @TempDir Path dir;

    @Test
    void checkpointTakenOnlineRestoresTheStoreAsOfThatMoment() {
        Path backup = dir.resolve("backup");
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            addTasks(store, 2);
            store.submitJudgment(judgment("before", "t1", "alice", Choice.CHOICE_A)).join();
            store.checkpoint(backup);
            store.submitJudgment(judgment("after", "t2", "alice", Choice.CHOICE_B)).join();
        }

        try (PreferenceStore restored = PreferenceStore.open(settings(dir).withPath(backup))) {
            assertTrue(restored.judgment("before").isPresent());
            assertTrue(restored.judgment("after").isEmpty());
            assertEquals(1, restored.lastSequence());
            assertEquals(List.of(), restored.integrityProblems());
            assertEquals(2, restored.submitJudgment(judgment("later", "t2", "bob", Choice.CHOICE_A)).join().sequence(),
                    "a restored store continues its sequence");
        }
    }
}
