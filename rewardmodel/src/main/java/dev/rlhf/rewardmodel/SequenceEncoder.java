package dev.rlhf.rewardmodel;

import dev.rlhf.policy.tokenizer.TextTokenizer;

/**
 * Turns a (prompt, response) pair into the token sequence a reward model reads: the prompt's tokens followed by
 * the response's, encoded separately as the policy produced them. Nothing is truncated, since a cut sequence
 * would lose the last token the score is read at.
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

    /**
     * Tokens of prompt + response.
     *
     * @throws IllegalArgumentException if they are empty or longer than the context
     */
    public int[] encode(String prompt, String response) {
        int[] p = tokenizer.encode(prompt);
        int[] r = tokenizer.encode(response);
        int length = p.length + r.length;
        if (length == 0 || length > contextLength) {
            throw new IllegalArgumentException("prompt + response must be 1 to " + contextLength
                    + " tokens but were " + length + ": " + prompt + " | " + response);
        }
        int[] tokens = new int[length];
        System.arraycopy(p, 0, tokens, 0, p.length);
        System.arraycopy(r, 0, tokens, p.length, r.length);
        return tokens;
    }
}
