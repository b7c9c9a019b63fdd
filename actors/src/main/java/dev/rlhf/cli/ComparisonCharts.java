package dev.rlhf.cli;

import dev.rlhf.cli.ComparisonResults.Curve;
import dev.rlhf.cli.ComparisonResults.Point;
import dev.rlhf.cli.ComparisonResults.RunResult;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The figures of {@code rlhf compare}, drawn headless with XChart: gold reward against KL to the reference and
 * against seconds (each algorithm a line, the mean over seeds at each iteration, with a 95% band over seeds; against
 * KL in the order of the mean KL), and PPO's over-optimisation (gold reward and reward-model score against KL).
 */
final class ComparisonCharts {
    static final String GOLD_VS_KL = "gold-vs-kl.png";
    static final String GOLD_VS_SECONDS = "gold-vs-seconds.png";
    static final String OVEROPTIMISATION_PPO = "overoptimisation-ppo.png";

    private static final Color[] COLOURS = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44),
        new Color(148, 103, 189), new Color(255, 127, 14)};
    private static final int WIDTH = 900;
    private static final int HEIGHT = 600;

    private ComparisonCharts() {}

    /** Draws the figures into {@code dir}; returns their paths (no over-optimisation figure without PPO). */
    static List<Path> draw(ComparisonResults results, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Path> written = new ArrayList<>();
        int seeds = results.results().stream().mapToInt(r -> r.run().seed()).max().orElse(0);
        String over = seeds == 1 ? " (1 seed)" : " (mean over " + seeds + " seeds, 95% band)";

        XYChart kl = chart("Gold reward against KL to the SFT policy" + over, "KL to reference (nats per response)",
                "gold reward");
        XYChart seconds = chart("Gold reward against wall-clock time" + over,
                "seconds since the first iteration started", "gold reward");
        List<String> algorithms = results.algorithms();
        for (int i = 0; i < algorithms.size(); i++) {
            String algorithm = algorithms.get(i);
            Color colour = COLOURS[i % COLOURS.length];
            List<RunResult> runs = results.of(algorithm);
            addCurve(kl, algorithm, Curve.of(runs, Point::kl, Point::gold).sortedByX(), colour);
            addFinal(kl, algorithm + " tuned (evaluation)", runs, colour);
            addCurve(seconds, algorithm, Curve.of(runs, Point::seconds, Point::gold), colour);
        }
        written.add(save(kl, dir.resolve(GOLD_VS_KL)));
        written.add(save(seconds, dir.resolve(GOLD_VS_SECONDS)));

        if (algorithms.contains("ppo")) {
            List<RunResult> ppo = results.of("ppo");
            XYChart overoptimisation = chart("PPO: gold reward and reward-model score against KL" + over,
                    "KL to reference (nats per response)", "reward (rollout batch mean)");
            addCurve(overoptimisation, "gold reward", Curve.of(ppo, Point::kl, Point::gold).sortedByX(),
                    COLOURS[0]);
            addCurve(overoptimisation, "reward-model score", Curve.of(ppo, Point::kl, Point::rm).sortedByX(),
                    COLOURS[1]);
            written.add(save(overoptimisation, dir.resolve(OVEROPTIMISATION_PPO)));
        }
        return written;
    }

    private static XYChart chart(String title, String x, String y) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y)
                .build();
        XYStyler styler = chart.getStyler();
        styler.setLegendPosition(Styler.LegendPosition.OutsideS);
        styler.setLegendLayout(Styler.LegendLayout.Horizontal);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        styler.setLegendBorderColor(new Color(200, 200, 200));
        styler.setDecimalPattern("#0.###");
        return chart;
    }

    /** The mean line and, with two seeds or more, its band (a polygon: the upper edge out, the lower edge back). */
    private static void addCurve(XYChart chart, String name, Curve curve, Color colour) {
        int n = curve.x().length;
        if (curve.banded()) {
            double[] px = new double[2 * n];
            double[] py = new double[2 * n];
            for (int i = 0; i < n; i++) {
                px[i] = curve.x()[i];
                py[i] = curve.high()[i];
                px[2 * n - 1 - i] = curve.x()[i];
                py[2 * n - 1 - i] = curve.low()[i];
            }
            XYSeries band = chart.addSeries(name + " 95% band", px, py);
            band.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.PolygonArea);
            band.setFillColor(new Color(colour.getRed(), colour.getGreen(), colour.getBlue(), 50));
            band.setLineColor(new Color(colour.getRed(), colour.getGreen(), colour.getBlue(), 0));
            band.setMarker(SeriesMarkers.NONE);
            band.setShowInLegend(false);
        }
        XYSeries line = chart.addSeries(name, curve.x(), curve.y());
        line.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        line.setLineColor(colour);
        line.setLineStyle(new BasicStroke(2f));
        line.setMarker(n <= 40 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        line.setMarkerColor(colour);
    }

    /** Each seed's tuned policy on the evaluation prompts, as hollow markers. */
    private static void addFinal(XYChart chart, String name, List<RunResult> runs, Color colour) {
        ToDoubleFunction<RunResult> kl = r -> r.last().kl();
        double[] x = runs.stream().mapToDouble(kl).toArray();
        double[] y = runs.stream().mapToDouble(r -> r.last().gold()).toArray();
        XYSeries finals = chart.addSeries(name, x, y);
        finals.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        finals.setMarker(SeriesMarkers.DIAMOND);
        finals.setMarkerColor(colour.darker());
    }

    private static Path save(XYChart chart, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
        return file;
    }
}
