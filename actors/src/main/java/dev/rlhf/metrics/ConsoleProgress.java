package dev.rlhf.metrics;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Prints training progress as a table: a header naming the chosen columns once, then one line per
 * iteration that starts with a progress bar, continues with the columns' values at fixed width and ends with the
 * time left. Plain lines, no redrawing, so it reads the same in a terminal, a pipe or a CI log.
 *
 * <pre>
 *                          reward/rm_mean  kl/to_reference        left
 * [#####.....]  5/10 iter          0.5120        0.0003100        0:42
 * </pre>
 *
 * Iterations are counted from 1, so the bar is full at iteration {@code totalIterations}. Values print
 * with four significant digits; a column the iteration did not record prints {@code -}. The time left extrapolates
 * the pace since the first line shown (a resumed run starts counting anew). Not thread-safe.
 */
public final class ConsoleProgress {

    private static final int BAR_WIDTH = 10;
    private static final int MIN_COLUMN_WIDTH = 10;
    private static final String COLUMN_GAP = "  ";
    private static final String TIME_LEFT = "left";

    private final PrintStream out;
    private final int totalIterations;
    private final List<String> columns;
    private final LongSupplier nanoTime;
    private boolean headerShown;
    private int firstIteration;
    private long firstNanos;

    /**
     * @param out where lines go
     * @param totalIterations iterations in the run, for the bar
     * @param columns scalar names to show, in order
     * @throws IllegalArgumentException if {@code totalIterations} is not positive
     */
    public ConsoleProgress(PrintStream out, int totalIterations, List<String> columns) {
        this(out, totalIterations, columns, System::nanoTime);
    }

    /** As {@link #ConsoleProgress(PrintStream, int, List)}, timing the pace with {@code nanoTime}. */
    ConsoleProgress(PrintStream out, int totalIterations, List<String> columns, LongSupplier nanoTime) {
        if (totalIterations <= 0) {
            throw new IllegalArgumentException("total iterations must be positive but was: " + totalIterations);
        }
        this.out = out;
        this.totalIterations = totalIterations;
        this.columns = List.copyOf(columns);
        this.nanoTime = nanoTime;
    }

    /** Progress on standard error, which keeps standard output free for a command's result. */
    public static ConsoleProgress onStderr(int totalIterations, List<String> columns) {
        return new ConsoleProgress(System.err, totalIterations, columns);
    }

    /** Prints the line for {@code iteration}, preceded by the header the first time. */
    public void show(int iteration, Map<String, Double> scalars) {
        String progress = progress(iteration);
        long now = nanoTime.getAsLong();
        String left = "-";
        if (!headerShown) {
            out.println(" ".repeat(progress.length()) + cells(columns) + timeLeftCell(TIME_LEFT));
            headerShown = true;
            firstIteration = iteration;
            firstNanos = now;
        } else if (iteration > firstIteration) {
            double secondsPerIteration = (now - firstNanos) / 1e9 / (iteration - firstIteration);
            left = duration(secondsPerIteration * Math.max(0, totalIterations - iteration));
        }
        out.println(progress + cells(columns.stream().map(column -> format(scalars.get(column))).toList())
                + timeLeftCell(left));
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

    private static String timeLeftCell(String text) {
        return COLUMN_GAP + String.format(Locale.ROOT, "%" + MIN_COLUMN_WIDTH + "s", text);
    }

    /** {@code m:ss}, or {@code h:mm:ss} from an hour on. */
    private static String duration(double seconds) {
        long total = Math.round(seconds);
        long hours = total / 3600;
        long minutes = total / 60 % 60;
        long secs = total % 60;
        return hours > 0
                ? String.format(Locale.ROOT, "%d:%02d:%02d", hours, minutes, secs)
                : String.format(Locale.ROOT, "%d:%02d", minutes, secs);
    }

    private static String format(Double value) {
        if (value == null) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.4g", value);
    }
}
