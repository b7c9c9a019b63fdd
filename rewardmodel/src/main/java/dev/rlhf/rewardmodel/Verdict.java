package dev.rlhf.rewardmodel;

/** What an annotator said about a {@link Comparison}. */
public enum Verdict {
    /** Response A is better. */
    A,
    /** Response B is better. */
    B,
    /** Neither is better. */
    TIE,
    /** The annotator declined to judge. */
    SKIP
}
