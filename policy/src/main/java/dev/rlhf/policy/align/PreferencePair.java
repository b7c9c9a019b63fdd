package dev.rlhf.policy.align;

import java.util.Arrays;

/**
 * One preference judgement at the token level: a prompt and the response preferred over another. The arrays are
 * copied in and never exposed mutable: {@link PreferenceLearner} keys its cache of reference log-probs by a pair's
 * content, so two pairs with the same tokens are equal (and share one cached entry).
 *
 * @param prompt the prompt's token ids, at least one
 * @param chosen the preferred response's token ids, at least one; it includes the end-of-text token when the
 *     response ended there
 * @param rejected the other response's token ids, likewise
 */
public record PreferencePair(int[] prompt, int[] chosen, int[] rejected) {

    /**
     * @throws IllegalArgumentException if any of the three is empty
     * @throws NullPointerException if any of the three is null
     */
    public PreferencePair {
        if (prompt.length == 0 || chosen.length == 0 || rejected.length == 0) {
            throw new IllegalArgumentException("prompt, chosen and rejected must each hold a token but held "
                    + prompt.length + ", " + chosen.length + " and " + rejected.length);
        }
        prompt = prompt.clone();
        chosen = chosen.clone();
        rejected = rejected.clone();
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    @Override
    public int[] chosen() {
        return chosen.clone();
    }

    @Override
    public int[] rejected() {
        return rejected.clone();
    }

    /** Prompt tokens plus the longer response's: the context a forward pass of this pair needs. */
    int length() {
        return prompt.length + Math.max(chosen.length, rejected.length);
    }

    int[] promptTokens() {
        return prompt;
    }

    int[] chosenTokens() {
        return chosen;
    }

    int[] rejectedTokens() {
        return rejected;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PreferencePair p && Arrays.equals(prompt, p.prompt)
                && Arrays.equals(chosen, p.chosen) && Arrays.equals(rejected, p.rejected);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(prompt) + Arrays.hashCode(chosen)) + Arrays.hashCode(rejected);
    }

    @Override
    public String toString() {
        return "PreferencePair[prompt=" + Arrays.toString(prompt) + ", chosen=" + Arrays.toString(chosen)
                + ", rejected=" + Arrays.toString(rejected) + "]";
    }
}
