package dev.rlhf.policy.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import dev.rlhf.policy.bootstrap.ReviewCorpus;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

class ByteLevelBpeTrainerTest {

    private static final int VOCAB_SIZE = 768;

    @TempDir static Path dir;

    private static List<String> corpus;
    private static ByteLevelBpe bpe;
    private static TextTokenizer tokenizer;

    @BeforeAll
    static void trainOnce() throws IOException {
        corpus = new ReviewCorpus().pretrainingDocuments(2_000, 7L);
        bpe = new ByteLevelBpeTrainer(VOCAB_SIZE).train(corpus);
        tokenizer = TextTokenizer.load(bpe.writeTokenizerJson(dir.resolve("ours")));
    }

    @AfterAll
    static void closeTokenizer() {
        tokenizer.close();
    }

    @Test
    void outputLoadsDirectlyInDjlHuggingFaceTokenizer() throws IOException {
        try (HuggingFaceTokenizer djl =
                HuggingFaceTokenizer.builder()
                        .optTokenizerPath(dir.resolve("ours"))
                        .optAddSpecialTokens(false)
                        .optTruncation(false)
                        .optPadding(false)
                        .build()) {
            long[] ids = djl.encode("Review of the hotel in Lisbon:").getIds();

            assertEquals("Review of the hotel in Lisbon:", djl.decode(ids, true));
        }
    }

    @Test
    void encodeThenDecodeRoundTripsCorpusDocumentsWithoutTheirEos() {
        for (String document : corpus.subList(0, 500)) {
            int[] ids = tokenizer.encode(document);

            String expected = document.replace(TextTokenizer.END_OF_TEXT, "");
            assertEquals(expected, tokenizer.decode(ids), "round trip of: " + document);
        }
    }

    @Test
    void encodeThenDecodeRoundTripsTextOutsideTheCorpus() {
        String text = "naïve café – 東京 🙂\n\ttabs,  double  spaces & 'quotes' 12345 ";

        assertEquals(text, tokenizer.decode(tokenizer.encode(text)));
    }

    @Test
    void frequentWordBecomesOneToken() {
        int[] ids = tokenizer.encode(" hotel");

        assertEquals(1, ids.length, "ids of ' hotel': " + Arrays.toString(ids));
        assertEquals(" hotel", tokenizer.tokenText(ids[0]));
    }

    @Test
    void vocabularyHasTheTargetSizeWithEosLast() {
        assertEquals(VOCAB_SIZE, bpe.size());
        assertEquals(VOCAB_SIZE, tokenizer.vocabSize());
        assertEquals(VOCAB_SIZE - 1, tokenizer.eosTokenId().orElseThrow());
    }

    @Test
    void eosInTextEncodesToItsIdAndDecodeSkipsIt() {
        int eos = tokenizer.eosTokenId().orElseThrow();

        int[] ids = tokenizer.encode(" The staff was nice." + TextTokenizer.END_OF_TEXT);

        assertEquals(eos, ids[ids.length - 1]);
        assertEquals(" The staff was nice.", tokenizer.decode(ids));
        assertEquals(TextTokenizer.END_OF_TEXT, tokenizer.tokenText(eos));
    }

    @Test
    void sameCorpusGivesByteIdenticalFile() throws IOException {
        Path again =
                new ByteLevelBpeTrainer(VOCAB_SIZE)
                        .train(corpus)
                        .writeTokenizerJson(dir.resolve("again"));

        assertArrayEquals(
                Files.readAllBytes(dir.resolve("ours").resolve(ByteLevelBpe.TOKENIZER_FILE_NAME)),
                Files.readAllBytes(again));
    }

    @Test
    void baseVocabularyFollowsGpt2ByteOrder() {
        assertEquals("!", bpe.vocabulary().get(0));
        assertEquals("\u0100", bpe.vocabulary().get(188), "byte 0 is U+0100 with id 188 in GPT-2");
        assertEquals("Ġ", ByteLevelAlphabet.toSymbols(" "));
    }

    @Test
    void trainingStopsEarlyWhenNoPairIsLeft() {
        ByteLevelBpe tiny = new ByteLevelBpeTrainer(1_000).train(List.of("ab ab"));

        // merges: a+b, Ġ+ab; then each word is a single token
        assertEquals(256 + 2 + 1, tiny.size());
        assertEquals(
                List.of(new ByteLevelBpe.Merge("a", "b"), new ByteLevelBpe.Merge("Ġ", "ab")),
                tiny.merges());
    }

    @Test
    void specialTokensInTheCorpusTakePartInNoMerge() {
        ByteLevelBpe trained =
                new ByteLevelBpeTrainer(300).train(List.of("x<|endoftext|>x<|endoftext|>x"));

        assertTrue(trained.merges().isEmpty(), "merges: " + trained.merges());
    }

    @Test
    void rejectsVocabularyWithoutRoomForBytesAndSpecialTokens() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new ByteLevelBpeTrainer(256));

        assertTrue(e.getMessage().contains("vocabSize"), e.getMessage());
    }
}
