package dev.rlhf.store;

/**
 * Agreement among annotators over a set of comparisons. Categories are "the lower-indexed candidate
 * is better", "the higher-indexed one is", tie and both bad; skips and retracted judgments are left out.
 *
 * @param kappa Cohen's or Fleiss' kappa; NaN when there were no items or chance agreement is 1
 * @param items how many comparisons (task and candidate pair) entered the computation
 */
public record Agreement(double kappa, int items) {}
