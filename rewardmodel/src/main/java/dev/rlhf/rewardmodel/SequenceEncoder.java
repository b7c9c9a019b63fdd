package dev.rlhf.rewardmodel;

import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.util.Arrays;

/**
 * Turns a (prompt, response) pair into the token sequence a reward model reads: the prompt's tokens followed by
 * the response's, encoded separately as the policy produced them. {@link #encode} refuses a pair longer than the
 * context (what a client's or a file's pair gets); {@link #encodeKeepingEnd} drops its first tokens instead, for
 * the policy's own samples: a sampled response's text can re-encode to more tokens than were sampled (a
 * degenerate one especially, when the tokenizer's merges split it differently), and one such sample must not fail
 * a run. Cutting from the front keeps the last token, which the score is read at.
 */
public final class SequenceEncoder {
    private final TextTokenizer tokenizer;
    private final int contextLength;

    /**
     * @param contextLength the longest sequence the model accepts
     */
    public SequenceEncoder(TextTokenizer tokenizer, int contextLength) {
        if (contextLength <= 0) {
            throw new IllegalArgumentException("contextLength must be positive but was " + contextLength);
        }
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
    }

    /** The most tokens of an encoded pair. */
    public int contextLength() {
        return contextLength;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Tokens of prompt + response.
     *
     * @throws IllegalArgumentException if they are empty or longer than the context
     */
    public int[] encode(String prompt, String response) {
        int[] tokens = concatenated(prompt, response);
        if (tokens.length > contextLength) {
            throw new IllegalArgumentException("prompt + response must be 1 to " + contextLength
                    + " tokens but were " + tokens.length + ": " + prompt + " | " + response);
        }
        return tokens;
    }

    /**
     * The last {@code contextLength} tokens of prompt + response.
     *
     * @throws IllegalArgumentException if they are empty
     */
    public int[] encodeKeepingEnd(String prompt, String response) {
        int[] tokens = concatenated(prompt, response);
        return tokens.length <= contextLength
                ? tokens
                : Arrays.copyOfRange(tokens, tokens.length - contextLength, tokens.length);
    }

    private int[] concatenated(String prompt, String response) {
        int[] p = tokenizer.encode(prompt);
        int[] r = tokenizer.encode(response);
        if (p.length + r.length == 0) {
            throw new IllegalArgumentException("prompt + response must be 1 to " + contextLength
                    + " tokens but were 0");
        }
        int[] tokens = Arrays.copyOf(p, p.length + r.length);
        System.arraycopy(r, 0, tokens, p.length, r.length);
        return tokens;
    }
}
