package dev.rlhf.rewardmodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequenceEncoderTest {
    private static final String PROMPT = "The hotel?";
    private static final String RESPONSE = " It was lovely, lovely, lovely, lovely, lovely and clean.";

    @Test
    void aPairThatFitsEncodesTheSameEitherWay(@TempDir Path dir) throws Exception {
        try (TextTokenizer tokenizer = TextTokenizer.load(TinyRewardModels.tokenizerDir(dir))) {
            SequenceEncoder encoder = new SequenceEncoder(tokenizer, TinyRewardModels.CONTEXT);

            int[] tokens = encoder.encode(PROMPT, RESPONSE);

            int[] prompt = tokenizer.encode(PROMPT);
            assertArrayEquals(prompt, Arrays.copyOf(tokens, prompt.length), "the prompt's tokens first");
            assertArrayEquals(tokens, encoder.encodeKeepingEnd(PROMPT, RESPONSE));
        }
    }

    @Test
    void aPairLongerThanTheContextIsRefusedOrKeepsItsLastTokens(@TempDir Path dir) throws Exception {
        try (TextTokenizer tokenizer = TextTokenizer.load(TinyRewardModels.tokenizerDir(dir))) {
            int[] whole = new SequenceEncoder(tokenizer, TinyRewardModels.CONTEXT).encode(PROMPT, RESPONSE);
            int context = whole.length - 3;
            SequenceEncoder encoder = new SequenceEncoder(tokenizer, context);

            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> encoder.encode(PROMPT, RESPONSE));
            assertTrue(refused.getMessage().contains("must be 1 to " + context + " tokens but were " + whole.length),
                    refused.getMessage());
            assertArrayEquals(Arrays.copyOfRange(whole, 3, whole.length), encoder.encodeKeepingEnd(PROMPT, RESPONSE),
                    "the first three tokens dropped, the last one (the score's) kept");
        }
    }

    @Test
    void anEmptyPairIsRefusedEitherWay(@TempDir Path dir) throws Exception {
        try (TextTokenizer tokenizer = TextTokenizer.load(TinyRewardModels.tokenizerDir(dir))) {
            SequenceEncoder encoder = new SequenceEncoder(tokenizer, TinyRewardModels.CONTEXT);

            assertThrows(IllegalArgumentException.class, () -> encoder.encode("", ""));
            assertThrows(IllegalArgumentException.class, () -> encoder.encodeKeepingEnd("", ""));
        }
    }
}
