package dev.rlhf.policy.generate;

/**
 * Hears what happens to one sequence in a {@link BatchEngine}. Called on the engine's thread between steps, so
 * implementations must be quick and must not call back into the engine.
 */
public interface SequenceListener {
    /** A token was generated (the first one right after the prompt's prefill). */
    default void onToken(int tokenId, float logprob) {}

    /** The sequence ended; this is its last event. */
    void onFinished(Completion completion);
}
