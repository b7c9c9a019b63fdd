package dev.rlhf.policy.bootstrap;

import java.util.Objects;

/**
 * One supervised example: a prompt and the response that follows it. The response starts with the
 * space that separates it from the prompt and ends with the EOS token, so {@link #document()} is
 * their plain concatenation.
 *
 * @param prompt the prompt text
 * @param response the response text
 */
public record PromptResponse(String prompt, String response) {

    /**
     * @throws NullPointerException if an argument is null
     */
    public PromptResponse {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(response, "response");
    }

    /** Returns prompt and response as one training document. */
    public String document() {
        return prompt + response;
    }
}
