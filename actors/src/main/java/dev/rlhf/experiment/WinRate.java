package dev.rlhf.experiment;

/**
 * The share of paired comparisons one policy wins (a tie counting half), with a Wilson score 95% interval: unlike
 * the normal approximation it stays inside [0, 1] and does not collapse to a point when every comparison is won.
 */
public record WinRate(double rate, double low, double high, int comparisons) {
    private static final double Z = 1.96;

    /** The win rate of {@code after} over {@code before}, compared index by index. */
    public static WinRate of(double[] before, double[] after) {
        if (before.length != after.length || before.length == 0) {
            throw new IllegalArgumentException("win rate needs as many scores after as before, at least one, but got "
                    + before.length + " and " + after.length);
        }
        double wins = 0;
        for (int i = 0; i < before.length; i++) {
            wins += after[i] > before[i] ? 1 : after[i] == before[i] ? 0.5 : 0;
        }
        int n = before.length;
        double p = wins / n;
        double z2 = Z * Z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = Z / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new WinRate(p, Math.max(0, centre - half), Math.min(1, centre + half), n);
    }
}
