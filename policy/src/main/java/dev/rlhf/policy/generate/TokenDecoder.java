package dev.rlhf.policy.generate;

/** Turns generated token ids into text; needed for stop strings and for {@link Completion#text()}. */
@FunctionalInterface
public interface TokenDecoder {
    /** The text of {@code tokenIds}, special tokens skipped. */
    String decode(int[] tokenIds);
}
