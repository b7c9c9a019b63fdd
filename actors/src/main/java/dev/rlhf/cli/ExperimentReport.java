package dev.rlhf.cli;

import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import dev.rlhf.experiment.GoldEvaluation;
import java.io.PrintStream;
import java.nio.file.Path;

/** The before/after table a run ends with. */
final class ExperimentReport {
    private ExperimentReport() {}

    /**
     * Prints a finished run's table and, as the last line, the path of its {@code summary.json}; a stopped run has
     * no table (its checkpoint was already reported). Returns the exit code.
     */
    static int printOutcome(ExperimentRunner.Outcome outcome, Path runDir, PrintStream out) {
        if (outcome.summary().isEmpty()) {
            return 0;
        }
        print(outcome.summary().get(), out);
        out.println(runDir.resolve(RunSummary.FILE_NAME).toAbsolutePath());
        return 0;
    }

    private static void print(RunSummary s, PrintStream out) {
        out.println();
        out.println("                 gold reward   95% CI");
        row(out, "SFT policy", s.goldSft());
        row(out, "tuned policy", s.goldTuned());
        row(out, "best reachable", s.goldBest());
        out.printf("gain (paired)    %+.3f        [%+.3f, %+.3f]  (per prompt, same seeds)%n", s.goldGain().mean(),
                s.goldGain().low(), s.goldGain().high());
        out.printf("gap closed       %.0f%% (target: at least 50%%)%n", 100 * s.gapClosed());
        out.printf("KL to SFT        %.2f         [%.2f, %.2f]  nats per response, evaluation prompts (budget %.1f; "
                + "last batch %.2f)%n", s.klFinal().mean(), s.klFinal().low(), s.klFinal().high(), s.klTarget(),
                s.klLastIteration());
        out.printf("reward model     accuracy against gold %.3f (%d versions)%n", s.rmAccuracyGold(),
                s.rewardModelVersions());
        out.printf("iterations       %d in %.0f s%n", s.iterations(), s.secondsTotal());
    }

    private static void row(PrintStream out, String name, GoldEvaluation.Estimate e) {
        out.printf("%-16s %+.3f        [%+.3f, %+.3f]%n", name, e.mean(), e.low(), e.high());
    }
}
