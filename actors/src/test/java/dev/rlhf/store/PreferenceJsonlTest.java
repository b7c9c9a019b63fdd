package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.prompt;
import static dev.rlhf.store.StoreFixture.settings;
import static dev.rlhf.store.StoreFixture.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.proto.v1.Choice;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PreferenceJsonlTest {

    private static final String MULTI_TURN =
            "\n\nHuman: Hi!\n\nAssistant: Hello, how can I help?\n\nHuman: Tell me a \"joke\" <now>.";

    @TempDir Path dir;

    @ParameterizedTest
    @EnumSource(PreferenceFormat.class)
    void exportImportExportRoundTripIsLossless(PreferenceFormat format) throws IOException {
        String exported;
        try (PreferenceStore store = PreferenceStore.open(settings(dir.resolve("source")))) {
            store.addPrompt(prompt("p1", "Write a haiku\nabout rain ☔.")).join();
            store.addPrompt(prompt("p2", MULTI_TURN)).join();
            store.addTask(task("t1", "p1", "Soft rain on tin roofs", "rain rain rain", "  leading spaces")).join();
            store.addTask(task("t2", "p2", "Why did the chicken...", "")).join();
            store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
            store.submitJudgment(judgment("j2", "t1", "bob", Choice.CHOICE_B).toBuilder()
                    .setCandidateA(2).setCandidateB(1).build()).join();
            store.submitJudgment(judgment("j3", "t2", "alice", Choice.CHOICE_B)).join();
            store.submitJudgment(judgment("j4", "t2", "bob", Choice.CHOICE_TIE)).join();
            exported = export(store, format);
        }
        assertEquals(3, exported.lines().count(), "ties and skips are not exported:\n" + exported);

        String reexported;
        try (PreferenceStore imported = PreferenceStore.open(settings(dir.resolve("imported")))) {
            var summary = new PreferenceJsonl(imported).importFrom(format, new StringReader(exported), "import",
                    "import:" + format);
            assertEquals(new PreferenceJsonl.ImportSummary(3, 3), summary);
            reexported = export(imported, format);
            assertEquals(List.of(), imported.integrityProblems());
        }

        assertEquals(exported, reexported);
    }

    @Test
    void trlLinesCarryPromptChosenAndRejected() throws IOException {
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            store.addPrompt(prompt("p", "2+2?")).join();
            store.addTask(task("t", "p", "4", "5")).join();
            store.submitJudgment(judgment("j", "t", "alice", Choice.CHOICE_B)).join();

            JsonObject line = JsonParser.parseString(export(store, PreferenceFormat.TRL).strip()).getAsJsonObject();

            assertEquals("2+2?", line.get("prompt").getAsString());
            assertEquals("5", line.get("chosen").getAsString());
            assertEquals("4", line.get("rejected").getAsString());
        }
    }

    @Test
    void hhRlhfLineSplitsAtTheLastSharedAssistantTurn() {
        JsonObject line = new JsonObject();
        line.addProperty("chosen", MULTI_TURN + "\n\nAssistant: A knock-knock joke.");
        line.addProperty("rejected", MULTI_TURN + "\n\nAssistant: No.");

        PreferencePair pair = PreferenceFormat.HH_RLHF.fromJson(line);

        assertEquals(new PreferencePair(MULTI_TURN, "A knock-knock joke.", "No."), pair);
        JsonObject single = PreferenceFormat.HH_RLHF.toJson(new PreferencePair("Hi", "Hello", "Go away"));
        assertEquals("\n\nHuman: Hi\n\nAssistant: Hello", single.get("chosen").getAsString());
        assertEquals("\n\nHuman: Hi\n\nAssistant: Go away", single.get("rejected").getAsString());
    }

    @Test
    void importingTheSameFileTwiceAddsNothingTheSecondTime() throws IOException {
        String jsonl = "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n\n"
                + "{\"prompt\":\"a\",\"chosen\":\"c\",\"rejected\":\"b\"}\n";
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            PreferenceJsonl jsonlStore = new PreferenceJsonl(store);

            var first = jsonlStore.importFrom(PreferenceFormat.TRL, new StringReader(jsonl), "ann", "trl");
            var second = jsonlStore.importFrom(PreferenceFormat.TRL, new StringReader(jsonl), "ann", "trl");

            assertEquals(new PreferenceJsonl.ImportSummary(2, 2), first);
            assertEquals(new PreferenceJsonl.ImportSummary(2, 0), second);
            assertEquals(2, store.lastSequence());
        }
    }

    @Test
    void malformedLinesAreReportedWithTheirNumbersAndNothingIsStored() {
        String jsonl = "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n{\"prompt\":\"a\",\"chosen\":7}\n"
                + "not json\n";
        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            InterchangeFormatException e = assertThrows(InterchangeFormatException.class,
                    () -> new PreferenceJsonl(store).importFrom(PreferenceFormat.TRL, new StringReader(jsonl), "ann",
                            "trl"));

            assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("\"chosen\""), e.getMessage());
            assertTrue(e.getMessage().contains("line 3"), e.getMessage());
            assertEquals(0, store.lastSequence(), "the good first line must not be stored either");
        }
    }

    private static String export(PreferenceStore store, PreferenceFormat format) throws IOException {
        StringWriter out = new StringWriter();
        new PreferenceJsonl(store).export(format, out);
        return out.toString();
    }
}
