package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code rlhf annotators} and {@code rlhf preferences} on a real store in a temporary directory. */
class StoreCommandsTest {

    @TempDir Path dir;

    /** What a command printed and returned. */
    private record Outcome(int exitCode, List<String> out, String err) {
        String lastLine() {
            return out.get(out.size() - 1);
        }
    }

    @Test
    void addedAnnotatorsTokenIsTheLastLineAndSignsThemInUntilRevoked() {
        Path store = dir.resolve("store");

        Outcome added = run("annotators", "add", "--store", store.toString(), "--admin", "carol");
        String token = added.lastLine();

        assertEquals(0, added.exitCode(), added.err());
        try (PreferenceStore opened = open(store)) {
            assertEquals("carol", opened.annotatorByToken(token).orElseThrow().getName());
            assertTrue(opened.annotatorByToken(token).orElseThrow().getAdmin());
        }
        Outcome revoked = run("annotators", "revoke", "--store", store.toString(), "carol");
        assertEquals(0, revoked.exitCode(), revoked.err());
        try (PreferenceStore opened = open(store)) {
            assertTrue(opened.annotatorByToken(token).isEmpty(), "a revoked token signs no one in");
        }
    }

    @Test
    void aTakenNameIsOneLineNamingIt() {
        Path store = dir.resolve("store");
        run("annotators", "add", "--store", store.toString(), "alice");

        Outcome again = run("annotators", "add", "--store", store.toString(), "alice");

        assertEquals(CliErrors.USER_ERROR, again.exitCode(), again.err());
        assertEquals(1, again.err().lines().count(), again.err());
        assertTrue(again.err().startsWith("rlhf annotators add: ") && again.err().contains("alice"), again.err());
    }

    @Test
    void aStoreOpenElsewhereIsSaidInOneLine() {
        Path store = dir.resolve("store");
        try (PreferenceStore held = open(store)) {
            Outcome outcome = run("annotators", "add", "--store", store.toString(), "bob");

            assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.err());
            assertEquals(1, outcome.err().lines().count(), outcome.err());
            assertTrue(outcome.err().contains("is open in another process"), outcome.err());
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

        Outcome imported = run("preferences", "import", "--store", store.toString(), "--format", "pairs",
                good.toString());
        Outcome refused = run("preferences", "import", "--store", store.toString(), "--format", "pairs",
                bad.toString());

        assertEquals(0, imported.exitCode(), imported.err());
        assertTrue(imported.lastLine().contains("2 new tasks"), imported.out().toString());
        assertEquals(CliErrors.USER_ERROR, refused.exitCode(), refused.err());
        assertTrue(refused.err().contains("line 2"), refused.err());
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
        run("preferences", "import", "--store", store.toString(), "--format", "pairs", pairs.toString());
        try (PreferenceStore opened = open(store)) {
            opened.submitJudgment(JudgmentSubmission.newBuilder().setJudgmentId("j1").setTaskId("t1")
                    .setAnnotatorId("alice").setChoice(Choice.CHOICE_B).build()).join();
        }
        Path out = dir.resolve("prefs.jsonl");

        Outcome exported = run("preferences", "export", "--store", store.toString(), "--format", "trl",
                "--out", out.toString());

        assertEquals(0, exported.exitCode(), exported.err());
        assertEquals(out.toString(), exported.lastLine());
        assertEquals(List.of("{\"prompt\":\"Review the hotel.\",\"chosen\":\"Awful.\",\"rejected\":\"Lovely.\"}"),
                Files.readAllLines(out));
    }

    private static PreferenceStore open(Path store) {
        return PreferenceStore.open(PreferenceStoreSettings.fromConfig(CliContext.load().config()).withPath(store));
    }

    private static Outcome run(String... arguments) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = RlhfCli.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream standardOut = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int exitCode = commandLine.execute(arguments);
            return new Outcome(exitCode, out.toString(StandardCharsets.UTF_8).lines().toList(), err.toString());
        } finally {
            System.setOut(standardOut);
        }
    }
}
