package dev.rlhf.policy.generate;

/**
 * One generated sequence.
 *
 * @param tokenIds the generated tokens only (an EOS or stop token that ended it included)
 * @param logprobs the model's own log-probability of each generated token: log-softmax of the raw logits,
 *     before penalty, temperature or filters, which is the quantity PPO and KL need
 * @param finishReason why it ended
 * @param text the decoded text of {@code tokenIds} without special tokens, cut before a stop string that ended
 *     it; empty when the generator has no decoder
 */
public record Completion(int[] tokenIds, float[] logprobs, FinishReason finishReason, String text) {}
