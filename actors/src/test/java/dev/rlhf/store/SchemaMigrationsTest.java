package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

class SchemaMigrationsTest {

    private static final byte[] MARKER_KEY = Keys.id("migrated-from");

    @TempDir Path dir;

    @Test
    void freshStoreIsStampedWithTheCurrentVersion() {
        PreferenceStore.open(settings(dir)).close();

        assertEquals(SchemaMigrations.CURRENT_VERSION, storedVersion());
    }

    @Test
    void olderStoreIsMigratedStepByStepKeepingItsData() {
        try (PreferenceStore store = PreferenceStore.open(settings(dir), Clock.systemUTC(),
                new SchemaMigrations(1, List.of()))) {
            addTasks(store, 1);
            store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        }
        List<Integer> applied = new ArrayList<>();
        SchemaMigrations toVersion3 = new SchemaMigrations(3, List.of(step(1, applied), step(2, applied)));

        try (PreferenceStore store = PreferenceStore.open(settings(dir), Clock.systemUTC(), toVersion3)) {
            assertEquals("alice", store.judgment("j1").orElseThrow().getSubmission().getAnnotatorId());
        }
        assertEquals(List.of(1, 2), applied);
        assertEquals(3, storedVersion());
        try (StoreDatabase database = StoreDatabase.open(settings(dir).path());
                StoreReader reader = StoreReader.latest(database)) {
            assertEquals(2, Keys.toNumber(reader.get(Column.METADATA, MARKER_KEY)), "each step's writes are kept");
        }

        PreferenceStore.open(settings(dir), Clock.systemUTC(), toVersion3).close();
        assertEquals(List.of(1, 2), applied, "an up-to-date store is not migrated again");
    }

    @Test
    void newerStoreFailsClearlyAndIsLeftClosedAndUntouched() {
        List<Integer> applied = new ArrayList<>();
        PreferenceStore.open(settings(dir), Clock.systemUTC(),
                new SchemaMigrations(3, List.of(step(1, applied), step(2, applied)))).close();

        SchemaVersionException e = assertThrows(SchemaVersionException.class,
                () -> PreferenceStore.open(settings(dir)));

        assertTrue(e.getMessage().contains("schema version 3") && e.getMessage().contains("at most version 2"),
                e.getMessage());
        // storedVersion() opens the database again, which RocksDB's lock allows only if the failed open closed it.
        assertEquals(3, storedVersion(), "a failed open must not rewrite the version");
    }

    @Test
    void aVersion1StoreOpensAsVersion2WithItsJudgmentsAndTakesRetractionsAndAnnotators() {
        try (PreferenceStore v1 = PreferenceStore.open(settings(dir), Clock.systemUTC(),
                new SchemaMigrations(1, List.of()))) {
            addTasks(v1, 1);
            v1.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        }
        assertEquals(1, storedVersion());

        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            String token = store.addAnnotator("bob", false).join();
            store.retractJudgment("j1", "alice").join();

            assertEquals("alice", store.judgment("j1").orElseThrow().getSubmission().getAnnotatorId(),
                    "the version-1 judgment is still there");
            assertEquals("bob", store.annotatorByToken(token).orElseThrow().getName());
            assertTrue(store.retraction("j1").isPresent());
            assertEquals(List.of(), store.integrityProblems());
        }
        assertEquals(2, storedVersion());
    }

    @Test
    void migrationsWithAMissingStepAreRefused() {
        List<Integer> applied = new ArrayList<>();
        assertThrows(IllegalArgumentException.class, () -> new SchemaMigrations(3, List.of(step(1, applied))));
        assertThrows(IllegalArgumentException.class,
                () -> new SchemaMigrations(3, List.of(step(2, applied), step(1, applied))));
    }

    /** A step that records that it ran and writes a marker naming the version it upgraded from. */
    private static SchemaMigrations.Step step(int from, List<Integer> applied) {
        return new SchemaMigrations.Step() {
            @Override
            public int fromVersion() {
                return from;
            }

            @Override
            public void apply(StoreReader reader, StoreDatabase database, WriteBatch batch) throws Exception {
                applied.add(from);
                batch.put(database.handle(Column.METADATA), MARKER_KEY, Keys.number(from));
            }
        };
    }

    private long storedVersion() {
        try (StoreDatabase database = StoreDatabase.open(settings(dir).path());
                StoreReader reader = StoreReader.latest(database)) {
            return Keys.toNumber(reader.get(Column.METADATA, MetadataKey.SCHEMA_VERSION.key()));
        }
    }
}
