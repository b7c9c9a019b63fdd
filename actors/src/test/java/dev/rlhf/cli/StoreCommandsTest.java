package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rlhf annotators} and {@code rlhf preferences} on a real store in a temporary directory. */
class StoreCommandsTest {

    @TempDir Path dir;


    @Test
    void addedAnnotatorsTokenIsTheLastLineAndSignsThemInUntilRevoked() {
        Path store = dir.resolve("store");

        CommandRun added = CommandRun.of("annotators", "add", "--store", store.toString(), "--admin", "carol");
        String token = added.lastLine();

        assertEquals(0, added.exitCode(), added.stderr());
        try (PreferenceStore opened = open(store)) {
            assertEquals("carol", opened.annotatorByToken(token).orElseThrow().getName());
            assertTrue(opened.annotatorByToken(token).orElseThrow().getAdmin());
        }
        CommandRun revoked = CommandRun.of("annotators", "revoke", "--store", store.toString(), "carol");
        assertEquals(0, revoked.exitCode(), revoked.stderr());
        try (PreferenceStore opened = open(store)) {
            assertTrue(opened.annotatorByToken(token).isEmpty(), "a revoked token signs no one in");
        }
    }

    @Test
    void aTakenNameIsOneLineNamingIt() {
        Path store = dir.resolve("store");
        CommandRun.of("annotators", "add", "--store", store.toString(), "alice");

        CommandRun again = CommandRun.of("annotators", "add", "--store", store.toString(), "alice");

        assertEquals(CliErrors.USER_ERROR, again.exitCode(), again.stderr());
        assertEquals(1, again.stderr().lines().count(), again.stderr());
        assertTrue(again.stderr().startsWith("rlhf annotators add: ") && again.stderr().contains("alice"), again.stderr());
    }

    @Test
    void aStoreOpenElsewhereIsSaidInOneLine() {
        Path store = dir.resolve("store");
        try (PreferenceStore held = open(store)) {
            CommandRun outcome = CommandRun.of("annotators", "add", "--store", store.toString(), "bob");

            assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.stderr());
            assertEquals(1, outcome.stderr().lines().count(), outcome.stderr());
            assertTrue(outcome.stderr().contains("is open in another process"), outcome.stderr());
            assertTrue(held.annotators().isEmpty());
        }
    }

    @Test
    void importedPairsBecomeTasksAndAFileWithABadLineImportsNothing() throws Exception {
        Path store = dir.resolve("store");
        Path good = Files.writeString(dir.resolve("pairs.jsonl"), """
                {"prompt": "Review the hotel.", "response_a": "Lovely.", "response_b": "Awful."}
                {"id": "t2", "prompt": "Review the cafe.", "response_a": "Fine.", "response_b": "Great."}
                """);
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), """
                {"prompt": "Review the bar.", "response_a": "Loud.", "response_b": "Quiet."}
                {"prompt": "Review the park.", "response_a": 3}
                """);

        CommandRun imported = CommandRun.of("preferences", "import", "--store", store.toString(), "--format", "pairs",
                good.toString());
        CommandRun refused = CommandRun.of("preferences", "import", "--store", store.toString(), "--format", "pairs",
                bad.toString());

        assertEquals(0, imported.exitCode(), imported.stderr());
        assertTrue(imported.lastLine().contains("2 new tasks"), imported.stdout());
        assertEquals(CliErrors.USER_ERROR, refused.exitCode(), refused.stderr());
        assertTrue(refused.stderr().contains("line 2"), refused.stderr());
        try (PreferenceStore opened = open(store)) {
            assertTrue(opened.task("t2").isPresent());
            assertEquals(2, opened.labelingOverview().getQueue().getTasks(), "the bad file added nothing");
        }
    }

    @Test
    void exportToAFileEndsWithItsPath() throws Exception {
        Path store = dir.resolve("store");
        Path pairs = Files.writeString(dir.resolve("pairs.jsonl"),
                "{\"id\": \"t1\", \"prompt\": \"Review the hotel.\", \"response_a\": \"Lovely.\", \"response_b\": \"Awful.\"}\n");
        CommandRun.of("preferences", "import", "--store", store.toString(), "--format", "pairs", pairs.toString());
        try (PreferenceStore opened = open(store)) {
            opened.submitJudgment(JudgmentSubmission.newBuilder().setJudgmentId("j1").setTaskId("t1")
                    .setAnnotatorId("alice").setChoice(Choice.CHOICE_B).build()).join();
        }
        Path out = dir.resolve("prefs.jsonl");

        CommandRun exported = CommandRun.of("preferences", "export", "--store", store.toString(), "--format", "trl",
                "--out", out.toString());

        assertEquals(0, exported.exitCode(), exported.stderr());
        assertEquals(out.toString(), exported.lastLine());
        assertEquals(List.of("{\"prompt\":\"Review the hotel.\",\"chosen\":\"Awful.\",\"rejected\":\"Lovely.\"}"),
                Files.readAllLines(out));
    }

    private static PreferenceStore open(Path store) {
        return PreferenceStore.open(PreferenceStoreSettings.fromConfig(CliContext.load().config()).withPath(store));
    }

}
