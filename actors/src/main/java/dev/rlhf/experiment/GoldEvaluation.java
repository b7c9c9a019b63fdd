package dev.rlhf.experiment;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.generate.Completion;
import java.util.List;

/** Mean gold reward of a policy's completions, with a 95% confidence interval. */
public final class GoldEvaluation {
    private GoldEvaluation() {}

    /** A mean and the half-width of its normal-approximation 95% confidence interval. */
    public record Estimate(double mean, double ci95, int samples, List<Completion> completions) {
        public double low() {
            return mean - ci95;
        }

        public double high() {
            return mean + ci95;
        }
    }

    /** Scores each completion of the prompt at the same index with the gold preference. */
    public static Estimate of(GoldScore gold, List<String> prompts, List<Completion> completions) {
        double[] scores = new double[completions.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = gold.score(prompts.get(i), completions.get(i).text());
        }
        return estimate(scores, completions);
    }

    /**
     * The gain of {@code after} over {@code before} on the same prompts and seeds, paired by prompt: the mean and
     * interval of the per-prompt differences, which leave out how hard each prompt is (so a real gain shows as
     * significant with fewer prompts than comparing the two means would need).
     */
    public static Estimate pairedGain(GoldScore gold, List<String> prompts, List<Completion> before,
            List<Completion> after) {
        double[] differences = new double[prompts.size()];
        for (int i = 0; i < differences.length; i++) {
            differences[i] = gold.score(prompts.get(i), after.get(i).text())
                    - gold.score(prompts.get(i), before.get(i).text());
        }
        return estimate(differences, List.of());
    }

    /** Mean and 95% interval of gold scores. */
    public static Estimate estimate(double[] scores, List<Completion> completions) {
        double mean = 0;
        for (double s : scores) {
            mean += s;
        }
        mean /= scores.length;
        double variance = 0;
        for (double s : scores) {
            variance += (s - mean) * (s - mean);
        }
        variance /= Math.max(1, scores.length - 1);
        return new Estimate(mean, 1.96 * Math.sqrt(variance / scores.length), scores.length, completions);
    }
}
