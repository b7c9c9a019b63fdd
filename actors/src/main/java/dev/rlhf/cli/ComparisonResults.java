package dev.rlhf.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.metrics.MetricsJsonlWriter;
import dev.rlhf.run.RunSummary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * What {@code rlhf compare} read back from its runs: per run the SFT point, one point per iteration (from
 * {@code metrics.jsonl}: the rollout batch's gold and reward-model means and KL to the reference) and the final point
 * (from {@code summary.json}: the tuned policy's evaluation); written as {@code compare.csv} and summed up per
 * algorithm.
 */
final class ComparisonResults {
    static final String CSV_HEADER = "algorithm,seed,point,iteration,seconds,kl,gold_reward,rm_score";

    /** One run of the comparison. */
    record Run(String algorithm, int seed, Path dir) {}

    /**
     * One evaluation point of a run.
     *
     * @param point {@code sft}, {@code iteration} or {@code final}
     * @param iteration iterations done at this point
     * @param seconds since the run's first iteration started ({@code seconds_total}, the whole run, for the final
     *     point)
     */
    record Point(String point, int iteration, double seconds, double kl, double gold, double rm) {}

    /**
     * A run's points and the figures of its summary the tables need.
     *
     * @param gapClosed share of the gold gap between the SFT policy and the best reachable gold reward closed
     * @param rmAccuracy the last reward model's accuracy against gold on the run's held-out comparisons
     * @param panelMajority the annotator panel's majority on the same comparisons: the reward model's ceiling
     */
    record RunResult(Run run, List<Point> points, double goldGain, double goldGainLow, double goldGainHigh,
            double gapClosed, double klLow, double klHigh, double rmAccuracy, double panelMajority) {
        Point last() {
            return points.get(points.size() - 1);
        }

        List<Point> curve() {
            return points.stream().filter(p -> !p.point().equals("final")).toList();
        }
    }

    private final List<RunResult> results;

    private ComparisonResults(List<RunResult> results) {
        this.results = results;
    }

    List<RunResult> results() {
        return results;
    }

    /** The algorithms in the order they ran. */
    List<String> algorithms() {
        return results.stream().map(r -> r.run().algorithm()).distinct().toList();
    }

    List<RunResult> of(String algorithm) {
        return results.stream().filter(r -> r.run().algorithm().equals(algorithm)).toList();
    }

    static ComparisonResults read(List<Run> runs) throws IOException {
        List<RunResult> results = new ArrayList<>();
        for (Run run : runs) {
            results.add(read(run));
        }
        return new ComparisonResults(results);
    }

    private static RunResult read(Run run) throws IOException {
        JsonObject summary = JsonParser.parseString(Files.readString(run.dir().resolve(RunSummary.FILE_NAME),
                StandardCharsets.UTF_8)).getAsJsonObject();
        List<Point> points = new ArrayList<>();
        points.add(new Point("sft", 0, 0, 0, number(summary, "gold_reward_sft"), number(summary, "rm_score_sft")));
        double firstStart = Double.NaN;
        double summed = 0;
        for (String line : Files.readAllLines(run.dir().resolve(MetricsJsonlWriter.FILE_NAME))) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject m = JsonParser.parseString(line).getAsJsonObject();
            double iterationSeconds = number(m, "time/iteration_s");
            summed += iterationSeconds;
            double seconds = summed;
            if (m.has(MetricsJsonlWriter.WALL_TIME)) { // wall-clock, with what happens between iterations
                double wall = number(m, MetricsJsonlWriter.WALL_TIME);
                if (Double.isNaN(firstStart)) {
                    firstStart = wall - iterationSeconds;
                }
                seconds = wall - firstStart;
            }
            points.add(new Point("iteration", m.get(MetricsJsonlWriter.ITERATION).getAsInt(), seconds,
                    number(m, "kl/to_reference"), number(m, "reward/gold_mean"), number(m, "reward/rm_mean")));
        }
        points.add(new Point("final", summary.get("iterations").getAsInt(), number(summary, "seconds_total"),
                number(summary, "kl_final"), number(summary, "gold_reward_tuned"), number(summary, "rm_score_tuned")));
        double[] gain = interval(summary, "gold_gain_paired_ci95");
        double[] kl = interval(summary, "kl_final_ci95");
        return new RunResult(run, points, number(summary, "gold_gain_paired"), gain[0], gain[1],
                number(summary, "gap_closed"), kl[0], kl[1], number(summary, "rm_accuracy_gold"),
                number(summary, "panel_majority_accuracy_gold"));
    }

    private static double number(JsonObject json, String key) {
        JsonElement value = json.get(key);
        return value == null || value.isJsonNull() ? Double.NaN : value.getAsDouble();
    }

    private static double[] interval(JsonObject json, String key) {
        if (!json.has(key) || !json.get(key).isJsonArray()) {
            return new double[] {Double.NaN, Double.NaN};
        }
        return new double[] {json.getAsJsonArray(key).get(0).getAsDouble(),
            json.getAsJsonArray(key).get(1).getAsDouble()};
    }

    /** Writes {@value #CSV_HEADER} and a row per run and point; returns the file. */
    Path writeCsv(Path file) throws IOException {
        StringBuilder csv = new StringBuilder(CSV_HEADER).append('\n');
        for (RunResult r : results) {
            for (Point p : r.points()) {
                csv.append(String.join(",", r.run().algorithm(), Integer.toString(r.run().seed()), p.point(),
                        Integer.toString(p.iteration()), format(p.seconds()), format(p.kl()), format(p.gold()),
                        format(p.rm()))).append('\n');
            }
        }
        Files.writeString(file, csv, StandardCharsets.UTF_8);
        return file;
    }

    private static String format(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.6g", value);
    }

    /**
     * The table per run, so no seed hides in a mean: gap closed, paired gold gain and final KL with their 95%
     * intervals over the evaluation prompts, the last reward model's accuracy against gold beside its ceiling (the
     * annotator panel's majority on the same held-out comparisons), seconds.
     */
    void printRuns(PrintWriter out) {
        out.println("algorithm  seed  gap closed  gold gain  95% CI              final KL  95% CI          rm acc"
                + "  ceiling  seconds");
        for (RunResult r : results) {
            out.printf(Locale.ROOT, "%-9s  %4d  %9.1f%%  %+9.3f  [%+.3f, %+.3f]  %8.2f  [%5.2f, %5.2f]  %6.3f  %7.3f"
                    + "  %7.0f%n", r.run().algorithm(), r.run().seed(), 100 * r.gapClosed(), r.goldGain(),
                    r.goldGainLow(), r.goldGainHigh(), r.last().kl(), r.klLow(), r.klHigh(), r.rmAccuracy(),
                    r.panelMajority(), r.last().seconds());
        }
    }

    /** The table per algorithm: gold gain (tuned - SFT) with its 95% CI, final KL, final rm score, seconds. */
    void printTable(PrintWriter out) {
        out.println("algorithm  seeds  iterations  gold gain  95% CI              final KL  rm score  seconds");
        for (String algorithm : algorithms()) {
            List<RunResult> runs = of(algorithm);
            Estimate gain = Estimate.overSeeds(runs, RunResult::goldGain);
            if (runs.size() == 1) { // one seed: the interval over its evaluation prompts
                gain = new Estimate(gain.mean(), runs.get(0).goldGainLow(), runs.get(0).goldGainHigh());
            }
            out.printf(Locale.ROOT, "%-9s  %5d  %10.1f  %+9.3f  [%+.3f, %+.3f]  %8.2f  %+8.3f  %7.0f%n", algorithm,
                    runs.size(), mean(runs, r -> r.last().iteration()), gain.mean(), gain.low(), gain.high(),
                    mean(runs, r -> r.last().kl()), mean(runs, r -> r.last().rm()),
                    mean(runs, r -> r.last().seconds()));
        }
        out.println("(means over seeds; gold gain = tuned - SFT gold reward on the evaluation prompts, its 95% CI "
                + "over seeds (Student t), over prompts for one seed; final KL and rm score of the tuned policy's "
                + "evaluation; seconds of the whole run)");
    }

    private static double mean(List<RunResult> runs, ToDoubleFunction<RunResult> value) {
        return runs.stream().mapToDouble(value).average().orElse(Double.NaN);
    }

    /** A mean with a 95% interval. */
    record Estimate(double mean, double low, double high) {
        /** Mean over seeds with Student's t interval (none with one seed). */
        static Estimate overSeeds(List<RunResult> runs, ToDoubleFunction<RunResult> value) {
            double[] values = runs.stream().mapToDouble(value).toArray();
            double mean = java.util.Arrays.stream(values).average().orElse(Double.NaN);
            if (values.length < 2) {
                return new Estimate(mean, mean, mean);
            }
            double half = T_975[Math.min(values.length - 1, T_975.length - 1)] * sd(values, mean)
                    / Math.sqrt(values.length);
            return new Estimate(mean, mean - half, mean + half);
        }
    }

    /** Student t quantiles at 0.975 by degrees of freedom (index), 1.96 beyond 30. */
    private static final double[] T_975 = {Double.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
        2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
        2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042, 1.96};

    /** Sample standard deviation. */
    static double sd(double[] values, double mean) {
        double sum = 0;
        for (double v : values) {
            sum += (v - mean) * (v - mean);
        }
        return Math.sqrt(sum / (values.length - 1));
    }

    /**
     * An algorithm's curve: at each point index (the SFT point, then iteration 1, 2, ...) the mean over the seeds
     * that reached it of x and y, and y's 95% band (mean ± 1.96·sd/√n; none with one seed).
     */
    record Curve(double[] x, double[] y, double[] low, double[] high, boolean banded) {
        static Curve of(List<RunResult> runs, ToDoubleFunction<Point> x, ToDoubleFunction<Point> y) {
            int length = runs.stream().mapToInt(r -> r.curve().size()).max().orElse(0);
            double[] xs = new double[length];
            double[] ys = new double[length];
            double[] low = new double[length];
            double[] high = new double[length];
            boolean banded = false;
            for (int i = 0; i < length; i++) {
                int at = i;
                List<Point> points = runs.stream().filter(r -> r.curve().size() > at).map(r -> r.curve().get(at))
                        .toList();
                double[] values = points.stream().mapToDouble(y).toArray();
                xs[i] = points.stream().mapToDouble(x).average().orElse(Double.NaN);
                ys[i] = java.util.Arrays.stream(values).average().orElse(Double.NaN);
                double half = values.length < 2 ? 0 : 1.96 * sd(values, ys[i]) / Math.sqrt(values.length);
                banded |= values.length >= 2;
                low[i] = ys[i] - half;
                high[i] = ys[i] + half;
            }
            return new Curve(xs, ys, low, high, banded);
        }

        /**
         * The same points in the order of x: a batch's KL goes down as well as up, so against KL the curve reads as
         * gold reward as a function of KL (and its band stays one polygon) only in that order.
         */
        Curve sortedByX() {
            Integer[] order = new Integer[x.length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, java.util.Comparator.comparingDouble(i -> x[i]));
            return new Curve(pick(x, order), pick(y, order), pick(low, order), pick(high, order), banded);
        }

        private static double[] pick(double[] values, Integer[] order) {
            double[] picked = new double[order.length];
            for (int i = 0; i < order.length; i++) {
                picked[i] = values[order[i]];
            }
            return picked;
        }
    }
}
