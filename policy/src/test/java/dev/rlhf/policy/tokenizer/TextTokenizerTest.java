package dev.rlhf.policy.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.bootstrap.ReviewCorpus;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class TextTokenizerTest {

    @TempDir static Path dir;

    private static Path tokenizerFile;

    @BeforeAll
    static void trainSmallTokenizer() throws IOException {
        List<String> corpus = new ReviewCorpus().pretrainingDocuments(300, 3L);
        tokenizerFile = new ByteLevelBpeTrainer(400).train(corpus).writeTokenizerJson(dir);
    }

    @Test
    void fileAndItsDirectoryLoadTheSameTokenizer() throws IOException {
        try (TextTokenizer fromFile = TextTokenizer.load(tokenizerFile);
                TextTokenizer fromDirectory = TextTokenizer.load(dir)) {
            assertArrayEquals(
                    fromFile.encode("Review of the cafe in Oslo:"),
                    fromDirectory.encode("Review of the cafe in Oslo:"));
        }
    }

    @Test
    void longTextIsNeitherTruncatedNorPadded() throws IOException {
        String text = " The staff was nice.".repeat(300);
        try (TextTokenizer tokenizer = TextTokenizer.load(tokenizerFile)) {
            int[] ids = tokenizer.encode(text);

            assertTrue(ids.length > 512, "ids: " + ids.length);
            assertEquals(text, tokenizer.decode(ids));
            assertEquals(0, tokenizer.encode("").length);
        }
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() throws IOException {
        try (TextTokenizer tokenizer = TextTokenizer.load(tokenizerFile)) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> tokenizer.decode(new int[] {0, tokenizer.vocabSize()}));

            assertTrue(e.getMessage().contains("ids[1]"), e.getMessage());
        }
    }

    @Test
    void tokenizerWithoutEndOfTextHasNoEosId() throws IOException {
        Path file =
                new ByteLevelBpeTrainer(300, List.of("<pad>"))
                        .train(List.of("ab ab"))
                        .writeTokenizerJson(dir.resolve("pad-only"));

        try (TextTokenizer tokenizer = TextTokenizer.load(file)) {
            assertTrue(tokenizer.eosTokenId().isEmpty());
            assertEquals(259, tokenizer.vocabSize());
        }
    }

    @Test
    void missingOrMalformedFileIsAnIoException() throws IOException {
        Path malformed = Files.writeString(dir.resolve("malformed.json"), "{\"model\": 3}");

        assertThrows(IOException.class, () -> TextTokenizer.load(dir.resolve("absent.json")));
        assertThrows(IOException.class, () -> TextTokenizer.load(malformed));
    }
}
