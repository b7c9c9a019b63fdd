package dev.rlhf.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptFileTest {

    @Test
    void plainTextIsOnePromptALineWithoutBlankLinesOrCarriageReturns(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.txt"),
                "Review: a fine film\r\n\r\n   \n  indented, {braced} \nlast without newline");

        // run
        List<String> prompts = PromptFile.read(file);

        // verify
        assertEquals(List.of("Review: a fine film", "  indented, {braced} ", "last without newline"), prompts);
    }

    @Test
    void jsonlGivesEachLinesPromptFieldInFileOrder(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.jsonl"), """

                {"prompt": "Review: \\"café\\" ✓\\nnext line", "id": 7}

                {"prompt": "second"}\r
                """);

        // run
        List<String> prompts = PromptFile.read(file);

        // verify
        assertEquals(List.of("Review: \"café\" ✓\nnext line", "second"), prompts);
    }

    @Test
    void trlPreferenceLinesGiveTheirPrompt(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("trl.jsonl"), """
                {"prompt": "Name a colour.", "chosen": " Teal.", "rejected": " Seven."}
                {"prompt": "Say hi.", "chosen": " Hi!", "rejected": " No."}
                """);

        // run
        List<String> prompts = PromptFile.read(file);

        // verify
        assertEquals(List.of("Name a colour.", "Say hi."), prompts);
    }

    @Test
    void hhRlhfLinesGiveTheChosenTranscriptCutAfterItsLastAssistantMarker(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("hh.jsonl"), """
                {"chosen": "\\n\\nHuman: Hi\\n\\nAssistant: Hello!", "rejected": "\\n\\nHuman: Hi\\n\\nAssistant: Go."}
                {"chosen": "\\n\\nHuman: A?\\n\\nAssistant: B.\\n\\nHuman: C?\\n\\nAssistant: D.", "rejected": "x"}
                """);

        // run
        List<String> prompts = PromptFile.read(file);

        // verify
        assertEquals(List.of("\n\nHuman: Hi\n\nAssistant:",
                "\n\nHuman: A?\n\nAssistant: B.\n\nHuman: C?\n\nAssistant:"), prompts);
    }

    @Test
    void byteOrderMarkIsNotPartOfTheFirstPrompt(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("bom.jsonl"), "\uFEFF{\"prompt\": \"first\"}\n");

        // run
        List<String> prompts = PromptFile.read(file);

        // verify
        assertEquals(List.of("first"), prompts);
    }

    @Test
    void lineThatIsNotJsonIsNamed(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.jsonl"), """
                {"prompt": "fine"}

                {"prompt": "unterminated
                """);

        // run
        String message = failure(file);

        // verify
        assertTrue(message.startsWith(file + " line 3: not JSON"), message);
    }

    @Test
    void lineThatIsNotAJsonObjectIsNamed(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.jsonl"), "{\"prompt\": \"fine\"}\n[\"a\", \"b\"]\n");

        // run
        String message = failure(file);

        // verify
        assertTrue(message.startsWith(file + " line 2: not a JSON object"), message);
    }

    @Test
    void lineWithNeitherPromptNorChosenIsNamed(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.jsonl"), """
                {"prompt": "a"}
                {"prompt": "b"}
                {"prompt": "c"}
                {"text": "d"}
                """);

        // run
        String message = failure(file);

        // verify
        assertEquals(file + " line 4: no \"prompt\" or \"chosen\" field", message);
    }

    @Test
    void promptThatIsNotAStringIsNamed(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.jsonl"), "{\"prompt\": \"a\"}\n{\"prompt\": [\"b\"]}\n");

        // run
        String message = failure(file);

        // verify
        assertEquals(file + " line 2: \"prompt\" is not a string", message);
    }

    @Test
    void nullPromptIsNotAString(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.jsonl"), "{\"prompt\": null, \"chosen\": \"x\"}\n");

        // run
        String message = failure(file);

        // verify
        assertEquals(file + " line 1: \"prompt\" is not a string", message);
    }

    @Test
    void blankPromptIsNamed(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.jsonl"), "{\"prompt\": \"a\"}\n{\"prompt\": \" \\n\"}\n");

        // run
        String message = failure(file);

        // verify
        assertEquals(file + " line 2: \"prompt\" is blank", message);
    }

    @Test
    void chosenThatIsNotAStringIsNamed(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("hh.jsonl"), "{\"chosen\": 3, \"rejected\": \"r\"}\n");

        // run
        String message = failure(file);

        // verify
        assertEquals(file + " line 1: \"chosen\" is not a string", message);
    }

    @Test
    void chosenWithoutAnAssistantTurnIsNamed(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("hh.jsonl"), """
                {"chosen": "\\n\\nHuman: Hi\\n\\nAssistant: Hello!", "rejected": "r"}
                {"chosen": "\\n\\nHuman: Hi\\n\\nAssistant Hello!", "rejected": "r"}
                """);

        // run
        String message = failure(file);

        // verify
        assertEquals(file + " line 2: \"chosen\" has no \"\\n\\nAssistant:\" turn", message);
    }

    @Test
    void missingFileIsNamed(@TempDir Path dir) {
        // setup
        Path file = dir.resolve("absent.txt");

        // run
        String message = failure(file);

        // verify
        assertEquals("prompt file " + file + " cannot be read: no such file", message);
    }

    @Test
    void directoryCannotBeRead(@TempDir Path dir) {
        // run
        String message = failure(dir);

        // verify
        assertTrue(message.startsWith("prompt file " + dir + " cannot be read: "), message);
    }

    @Test
    void fileOfBlankLinesHoldsNoPrompts(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.writeString(dir.resolve("prompts.txt"), "\n  \r\n\t\n");

        // run
        String message = failure(file);

        // verify
        assertEquals("prompt file " + file + " holds no prompts", message);
    }

    @Test
    void invalidUtf8IsNamedWithItsLine(@TempDir Path dir) throws IOException {
        // setup
        byte[] latin1 = "first\nsecond\ncaf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
        Path file = Files.write(dir.resolve("prompts.txt"), latin1);

        // run
        String message = failure(file);

        // verify
        assertEquals(file + " line 3: not UTF-8", message);
    }

    private static String failure(Path file) {
        return assertThrows(PromptFileException.class, () -> PromptFile.read(file)).getMessage();
    }
}
