package dev.rlhf.policy.generate;

/**
 * A prompt, as token ids, and how to continue it.
 *
 * @param promptIds at least one token id
 * @param params sampling parameters for this sequence alone
 */
public record GenerationRequest(int[] promptIds, SamplingParams params) {
    public GenerationRequest {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("prompt must not be empty");
        }
    }
}
