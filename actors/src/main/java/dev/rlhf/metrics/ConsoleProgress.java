package dev.rlhf.metrics;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints training progress as a table: a header naming the chosen columns once, then one line per
 * iteration that starts with a progress bar and continues with the columns' values at fixed width.
 *
 * <pre>
 *                          reward/rm_mean  kl/to_reference
 * [#####.....]  5/10 iter          0.5120        0.0003100
 * </pre>
 *
 * Iterations are counted from 1, so the bar is full at iteration {@code totalIterations}. Values print
 * with four significant digits; a column the iteration did not record prints {@code -}. Not thread-safe.
 */
public final class ConsoleProgress {

    private static final int BAR_WIDTH = 10;
    private static final int MIN_COLUMN_WIDTH = 10;
    private static final String COLUMN_GAP = "  ";

    private final PrintStream out;
    private final int totalIterations;
    private final List<String> columns;
    private boolean headerShown;

    /**
     * @param out where lines go
     * @param totalIterations iterations in the run, for the bar
     * @param columns scalar names to show, in order
     * @throws IllegalArgumentException if {@code totalIterations} is not positive
     */
    public ConsoleProgress(PrintStream out, int totalIterations, List<String> columns) {
        if (totalIterations <= 0) {
            throw new IllegalArgumentException("total iterations must be positive but was: " + totalIterations);
        }
        this.out = out;
        this.totalIterations = totalIterations;
        this.columns = List.copyOf(columns);
    }

    /** Progress on standard error, which keeps standard output free for a command's result. */
    public static ConsoleProgress onStderr(int totalIterations, List<String> columns) {
        return new ConsoleProgress(System.err, totalIterations, columns);
    }

    /** Prints the line for {@code iteration}, preceded by the header the first time. */
    public void show(int iteration, Map<String, Double> scalars) {
        String progress = progress(iteration);
        if (!headerShown) {
            out.println(" ".repeat(progress.length()) + cells(columns));
            headerShown = true;
        }
        out.println(progress + cells(columns.stream().map(column -> format(scalars.get(column))).toList()));
        out.flush();
    }

    private String progress(int iteration) {
        int filled = (int) ((long) Math.max(0, Math.min(iteration, totalIterations)) * BAR_WIDTH / totalIterations);
        int digits = Integer.toString(totalIterations).length();
        return "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] "
                + String.format(Locale.ROOT, "%" + digits + "d/%d iter", iteration, totalIterations);
    }

    private String cells(List<String> texts) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            int width = Math.max(MIN_COLUMN_WIDTH, columns.get(i).length());
            line.append(COLUMN_GAP).append(String.format(Locale.ROOT, "%" + width + "s", texts.get(i)));
        }
        return line.toString();
    }

    private static String format(Double value) {
        if (value == null) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.4g", value);
    }
}
