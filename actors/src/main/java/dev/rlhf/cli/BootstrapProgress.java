package dev.rlhf.cli;

import dev.rlhf.policy.bootstrap.Bootstrap;
import java.io.PrintStream;
import java.util.Locale;

/** Shows a bootstrap's training on the console: one line per report, with the phase's time left. */
final class BootstrapProgress implements Bootstrap.Progress {
    private final PrintStream out;
    private String phase;
    private long phaseStart;
    private int firstStep;

    BootstrapProgress(PrintStream out) {
        this.out = out;
    }

    @Override
    public void step(String reportedPhase, int step, int steps, double loss) {
        long now = System.nanoTime();
        String left = "-";
        if (!reportedPhase.equals(phase)) {
            phase = reportedPhase;
            phaseStart = now;
            firstStep = step;
        } else if (step > firstStep) {
            double secondsPerStep = (now - phaseStart) / 1e9 / (step - firstStep);
            long seconds = Math.round(secondsPerStep * (steps - step));
            left = String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
        }
        out.printf(Locale.ROOT, "%-8s %5d/%d  loss %.3f  %s left%n", phase, step, steps, loss, left);
        out.flush();
    }
}
