package dev.rlhf.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilePromptsTest {
    /** Counts words as tokens, enough to test the length limit. */
    private static int words(String prompt) {
        return prompt.split(" ").length;
    }

    private static Path promptFile(Path dir, int count) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            lines.add("prompt number " + i);
        }
        return Files.write(dir.resolve("prompts.txt"), lines);
    }

    @Test
    void aSeededShareIsHeldOutInFileOrderAndNeverTrainedOn(@TempDir Path dir) throws IOException {
        // setup
        Path file = promptFile(dir, 100);

        // run
        FilePrompts prompts = FilePrompts.load(file, FilePromptsTest::words, 10, 0.1, 7);
        FilePrompts again = FilePrompts.load(file, FilePromptsTest::words, 10, 0.1, 7);
        FilePrompts otherSeed = FilePrompts.load(file, FilePromptsTest::words, 10, 0.1, 8);

        // verify
        List<String> heldOut = prompts.evaluation(1000, 1);
        assertEquals(10, heldOut.size());
        List<Integer> numbers = heldOut.stream().map(p -> Integer.parseInt(p.substring(14))).toList();
        assertEquals(numbers.stream().sorted().toList(), numbers, "held-out prompts keep the file's order");
        Set<String> trained = new HashSet<>(prompts.training(90, 3));
        assertEquals(90, trained.size(), "a draw of all training prompts holds each once");
        assertTrue(heldOut.stream().noneMatch(trained::contains), "held-out prompts are never trained on");
        assertEquals(heldOut, again.evaluation(1000, 1), "the split is a function of the seed");
        assertFalse(heldOut.equals(otherSeed.evaluation(1000, 1)), "another seed holds out other prompts");
        assertEquals(heldOut.subList(0, 4), prompts.evaluation(4, 99), "the evaluation takes the first held out");
    }

    @Test
    void drawsAreSeededAndRepeatWhenMoreAreAskedThanThereAre(@TempDir Path dir) throws IOException {
        // setup
        FilePrompts prompts = FilePrompts.load(promptFile(dir, 11), FilePromptsTest::words, 10, 0.1, 1);

        // run
        List<String> draw = prompts.training(25, 5);

        // verify
        assertEquals(25, draw.size());
        assertEquals(draw, prompts.training(25, 5));
        assertEquals(draw.subList(0, 10), draw.subList(10, 20), "ten training prompts, cycled in one order");
        assertFalse(draw.equals(prompts.training(25, 6)));
    }

    @Test
    void promptsLongerThanTheLimitAreSkippedAndCounted(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.write(dir.resolve("prompts.txt"),
                List.of("short one", "a prompt far too long for the limit", "short two", "short three"));

        // run
        FilePrompts prompts = FilePrompts.load(file, FilePromptsTest::words, 3, 0.3, 1);

        // verify
        assertEquals(1, prompts.skipped());
        List<String> all = new ArrayList<>(prompts.evaluation(10, 0));
        all.addAll(new HashSet<>(prompts.training(10, 0)));
        assertEquals(Set.of("short one", "short two", "short three"), new HashSet<>(all));
    }

    @Test
    void tooFewPromptsToSplitIsAnErrorNamingTheFile(@TempDir Path dir) throws IOException {
        // setup
        Path file = Files.write(dir.resolve("prompts.txt"), List.of("only one", "a prompt far too long for it"));

        // run
        PromptFileException e = assertThrows(PromptFileException.class,
                () -> FilePrompts.load(file, FilePromptsTest::words, 3, 0.1, 1));

        // verify
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("keeps 1 prompts of at most 3 tokens (of 2)"), e.getMessage());
    }
}
