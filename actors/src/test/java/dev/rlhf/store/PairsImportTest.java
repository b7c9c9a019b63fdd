package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.ComparisonTask;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The unlabeled pairs format becomes tasks to judge, all or nothing, and importing again adds nothing. */
class PairsImportTest {
    private static final String PAIRS = """
            {"prompt": "Name a colour.", "response_a": "Red.", "response_b": "Blue."}

            {"prompt": "Name a fruit.", "response_a": "Fig.", "response_b": "Kiwi.", "id": "fruit-1"}
            """;

    @TempDir Path dir;

    @Test
    void eachLineBecomesAnUnjudgedTwoCandidateTaskAndReimportingIsANoOp() throws IOException {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            PreferenceJsonl jsonl = new PreferenceJsonl(store);

            PreferenceJsonl.ImportSummary first = jsonl.importPairs(new StringReader(PAIRS), "upload");
            PreferenceJsonl.ImportSummary again = jsonl.importPairs(new StringReader(PAIRS), "upload");

            assertEquals(new PreferenceJsonl.ImportSummary(2, 2), first);
            assertEquals(new PreferenceJsonl.ImportSummary(2, 0), again);
            ComparisonTask fruit = store.task("fruit-1").orElseThrow();
            assertEquals("Fig.", fruit.getCandidates(0).getText());
            assertEquals("Kiwi.", fruit.getCandidates(1).getText());
            assertEquals("upload", fruit.getCandidates(1).getPolicyVersion());
            assertEquals("Name a fruit.", store.prompt(fruit.getPromptId()).orElseThrow().getText());
            assertEquals(0, store.lastSequence(), "no judgment");
            assertEquals(2, store.nextTasks("alice", 5).join().size(), "both tasks are open for annotators");
        }
    }

    @Test
    void aFileWithAnyBadLineStoresNothingAndNamesEveryBadLine() {
        String bad = """
                {"prompt": "Name a colour.", "response_a": "Red.", "response_b": "Blue."}
                {"prompt": "Name a fruit.", "response_a": "Fig."}
                not json
                {"prompt": "p", "response_a": "a", "response_b": "b", "id": ""}
                """;
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            InterchangeFormatException e = assertThrows(InterchangeFormatException.class,
                    () -> new PreferenceJsonl(store).importPairs(new StringReader(bad), "upload"));

            assertTrue(e.getMessage().contains("line 2: field \"response_b\" must be a string"), e.getMessage());
            assertTrue(e.getMessage().contains("line 3: "), e.getMessage());
            assertTrue(e.getMessage().contains("line 4: ") && e.getMessage().contains("id must not be empty"),
                    e.getMessage());
            assertTrue(!e.getMessage().contains("line 1:"), e.getMessage());
            assertTrue(store.nextTask("alice").join().isEmpty(), "the good first line was not stored either");
        }
    }

    @Test
    void anIdGivenToOtherContentIsABadLine() throws IOException {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            new PreferenceJsonl(store).importPairs(new StringReader(PAIRS), "upload");
            String clash = "{\"prompt\": \"Other\", \"response_a\": \"x\", \"response_b\": \"y\", \"id\": \"fruit-1\"}";

            InterchangeFormatException e = assertThrows(InterchangeFormatException.class,
                    () -> new PreferenceJsonl(store).importPairs(new StringReader(clash), "upload"));

            assertTrue(e.getMessage().contains("line 1: id fruit-1 is already stored with other content"),
                    e.getMessage());
        }
    }
}
