package dev.rlhf.cli;

import dev.rlhf.actors.RunSummary;
import dev.rlhf.experiment.GoldEvaluation;
import java.io.PrintStream;

/** The before/after table a run ends with. */
final class ExperimentReport {
    private ExperimentReport() {}

    static void print(RunSummary s, PrintStream out) {
        out.println();
        out.println("                 gold reward   95% CI");
        row(out, "SFT policy", s.goldSft());
        row(out, "tuned policy", s.goldTuned());
        row(out, "best reachable", s.goldBest());
        out.printf("gap closed       %.0f%% (target: at least 50%%)%n", 100 * s.gapClosed());
        out.printf("KL to SFT        %.2f nats per response (target %.1f)%n", s.klFinal(), s.klTarget());
        out.printf("reward model     accuracy against gold %.3f (%d versions)%n", s.rmAccuracyGold(),
                s.rewardModelVersions());
        out.printf("iterations       %d in %.0f s%n", s.iterations(), s.secondsTotal());
    }

    private static void row(PrintStream out, String name, GoldEvaluation.Estimate e) {
        out.printf("%-16s %+.3f        [%+.3f, %+.3f]%n", name, e.mean(), e.low(), e.high());
    }
}
