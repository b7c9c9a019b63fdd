package dev.rlhf.rewardmodel;

import java.util.Objects;

/**
 * Two responses to one prompt, to be judged against each other.
 *
 * @param prompt the prompt text
 * @param responseA the first response, as it follows the prompt (leading space and EOS token included, if any)
 * @param responseB the second response
 */
public record Comparison(String prompt, String responseA, String responseB) {
    public Comparison {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(responseA, "responseA");
        Objects.requireNonNull(responseB, "responseB");
    }
}
