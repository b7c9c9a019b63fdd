package dev.rlhf.store;

/**
 * Chance-corrected agreement between raters who sort items into categories. Both return NaN when
 * chance agreement is 1 (every rating in one category), where kappa is undefined.
 */
public final class Kappa {

    private Kappa() {}

    /**
     * Cohen's kappa for two raters: {@code confusion[i][j]} counts items rater 1 put in category i
     * and rater 2 in category j.
     *
     * @throws IllegalArgumentException if the table is not square, has a negative count, or is empty
     */
    public static double cohen(long[][] confusion) {
        int k = confusion.length;
        long total = 0;
        long agreed = 0;
        long[] rows = new long[k];
        long[] columns = new long[k];
        for (int i = 0; i < k; i++) {
            if (confusion[i].length != k) {
                throw new IllegalArgumentException("confusion must be square but row " + i + " has "
                        + confusion[i].length + " columns for " + k + " rows");
            }
            for (int j = 0; j < k; j++) {
                long count = confusion[i][j];
                if (count < 0) {
                    throw new IllegalArgumentException("confusion[" + i + "][" + j + "] must not be negative: " + count);
                }
                total += count;
                rows[i] += count;
                columns[j] += count;
                if (i == j) {
                    agreed += count;
                }
            }
        }
        if (total == 0) {
            throw new IllegalArgumentException("confusion must count at least one item");
        }
        double observed = (double) agreed / total;
        double chance = 0;
        for (int i = 0; i < k; i++) {
            chance += ((double) rows[i] / total) * ((double) columns[i] / total);
        }
        return kappa(observed, chance);
    }

    /**
     * Fleiss' kappa: {@code counts[i][j]} is how many raters put item i in category j; every item
     * must have the same number (at least 2) of ratings.
     *
     * @throws IllegalArgumentException if there are no items, counts are negative, or rows differ in sum
     */
    public static double fleiss(long[][] counts) {
        if (counts.length == 0) {
            throw new IllegalArgumentException("counts must have at least one item");
        }
        int categories = counts[0].length;
        long raters = -1;
        double[] categoryTotals = new double[categories];
        double sumAgreement = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i].length != categories) {
                throw new IllegalArgumentException("item " + i + " has " + counts[i].length + " categories, not "
                        + categories);
            }
            long ratings = 0;
            long pairs = 0;
            for (int j = 0; j < categories; j++) {
                long c = counts[i][j];
                if (c < 0) {
                    throw new IllegalArgumentException("counts[" + i + "][" + j + "] must not be negative: " + c);
                }
                ratings += c;
                pairs += c * (c - 1);
                categoryTotals[j] += c;
            }
            if (raters == -1) {
                raters = ratings;
                if (raters < 2) {
                    throw new IllegalArgumentException("each item needs at least 2 ratings but item 0 has " + raters);
                }
            } else if (ratings != raters) {
                throw new IllegalArgumentException("every item needs " + raters + " ratings but item " + i
                        + " has " + ratings);
            }
            sumAgreement += (double) pairs / (raters * (raters - 1));
        }
        double observed = sumAgreement / counts.length;
        double chance = 0;
        for (double total : categoryTotals) {
            double p = total / (counts.length * raters);
            chance += p * p;
        }
        return kappa(observed, chance);
    }

    /**
     * Krippendorff's alpha for nominal data, from the coincidence matrix: {@code counts[i][c]} is how many raters put
     * item i in category c; items with fewer than two ratings are not pairable and left out. {@code alpha = 1 -
     * D_o / D_e}, as in Krippendorff
     * (2011), "Computing Krippendorff's Alpha-Reliability": {@code D_o = (n - sum_c o_cc) / n} and {@code D_e = (n^2 -
     * sum_c n_c^2) / (n (n - 1))}, where {@code o_cc = sum_u n_uc (n_uc - 1) / (m_u - 1)}, {@code n_c} the pairable
     * values in category c and {@code n} all pairable values. Missing ratings need no special value: an item simply
     * counts fewer.
     *
     * @return alpha; NaN when expected disagreement is 0 (every pairable value in one category, or none at all)
     * @throws IllegalArgumentException if rows differ in length or a count is negative
     */
    public static double krippendorffAlpha(long[][] counts) {
        int categories = counts.length == 0 ? 0 : counts[0].length;
        double[] coincidentSame = new double[categories];
        double[] totals = new double[categories];
        double n = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i].length != categories) {
                throw new IllegalArgumentException("item " + i + " has " + counts[i].length + " categories, not "
                        + categories);
            }
            long m = 0;
            for (int c = 0; c < categories; c++) {
                if (counts[i][c] < 0) {
                    throw new IllegalArgumentException("counts[" + i + "][" + c + "] must not be negative: "
                            + counts[i][c]);
                }
                m += counts[i][c];
            }
            if (m < 2) {
                continue;
            }
            for (int c = 0; c < categories; c++) {
                long nc = counts[i][c];
                coincidentSame[c] += (double) nc * (nc - 1) / (m - 1);
                totals[c] += nc;
            }
            n += m;
        }
        double agreeing = 0;
        double sumSquares = 0;
        for (int c = 0; c < categories; c++) {
            agreeing += coincidentSame[c];
            sumSquares += totals[c] * totals[c];
        }
        double expected = n < 2 ? 0 : (n * n - sumSquares) / (n * (n - 1));
        if (expected == 0) {
            return Double.NaN;
        }
        double observed = (n - agreeing) / n;
        return 1.0 - observed / expected;
    }

    private static double kappa(double observed, double chance) {
        return chance >= 1.0 ? Double.NaN : (observed - chance) / (1.0 - chance);
    }
}
