package dev.rlhf.policy.generate;

import java.util.Locale;

/** Why a generated sequence ended. */
public enum FinishReason {
    /** {@code maxNewTokens} or the model's context length was reached. */
    LENGTH,
    /** A stop token id was produced, or the text came to contain a stop string. */
    STOP,
    /** The model produced its end-of-sequence token. */
    EOS;

    /** The lower-case name clients see ({@code length}, {@code stop}, {@code eos}). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
