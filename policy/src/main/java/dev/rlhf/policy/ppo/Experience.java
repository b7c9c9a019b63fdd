package dev.rlhf.policy.ppo;

/**
 * A scored rollout batch, everything PPO needs before its update; every per-token array is
 * {@code [batch, responseLength]} row-major in the layout of {@link RolloutSequences}, padding entries 0.
 *
 * @param sequences the prompt + response tokens
 * @param logprobs log π_old of each response token under the policy that is about to be updated
 * @param refLogprobs log π_ref of each response token under the frozen reference
 * @param values the policy's value head at the position that predicts each response token
 * @param entropy entropy (nats) of π_old's distribution at the position that predicts each response token
 * @param scores one reward-model score per sequence
 */
public record Experience(
        RolloutSequences sequences,
        float[] logprobs,
        float[] refLogprobs,
        float[] values,
        float[] entropy,
        float[] scores) {

    /** @throws IllegalArgumentException if an array does not match the sequences' shape */
    public Experience {
        int tokens = sequences.batch() * sequences.responseLength();
        requireLength(logprobs, tokens, "logprobs");
        requireLength(refLogprobs, tokens, "refLogprobs");
        requireLength(values, tokens, "values");
        requireLength(entropy, tokens, "entropy");
        requireLength(scores, sequences.batch(), "scores");
    }

    private static void requireLength(float[] array, int expected, String name) {
        if (array.length != expected) {
            throw new IllegalArgumentException(
                    name + " must hold " + expected + " entries but held " + array.length);
        }
    }
}
