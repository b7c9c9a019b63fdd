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

    private static double kappa(double observed, double chance) {
        return chance >= 1.0 ? Double.NaN : (observed - chance) / (1.0 - chance);
    }
}
