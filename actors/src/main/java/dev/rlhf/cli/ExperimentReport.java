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
        s.gold().ifPresentOrElse(gold -> printGold(gold, out), () -> out.println(
                "No gold reward exists for this task: the figures below are the reward model's own judgment, the one"
                        + " PPO optimised against, and can over-state the gain (read the sample completions)."));
        RunSummary.RewardModelView rm = s.rewardModel();
        out.printf("                 rm score (v%d)  95%% CI%n", rm.version());
        row(out, "SFT policy", rm.sft());
        row(out, "tuned policy", rm.tuned());
        out.printf("gain (paired)    %+.3f        [%+.3f, %+.3f]  (per prompt, same seeds)%n", rm.gain().mean(),
                rm.gain().low(), rm.gain().high());
        out.printf("win rate         %.3f         [%.3f, %.3f]  (tuned over SFT, %d held-out prompts)%n",
                rm.winRate().rate(), rm.winRate().low(), rm.winRate().high(), s.evaluationPrompts());
        out.printf("KL to SFT        %.2f         [%.2f, %.2f]  nats per response, evaluation prompts (budget %.1f; "
                + "last batch %.2f)%n", s.klFinal().mean(), s.klFinal().low(), s.klFinal().high(), s.klTarget(),
                s.klLastIteration());
        out.printf("iterations       %d in %.0f s (%d reward-model version%s)%n", s.iterations(), s.secondsTotal(),
                s.rewardModelVersions(), s.rewardModelVersions() == 1 ? "" : "s");
    }

    private static void printGold(RunSummary.Gold gold, PrintStream out) {
        out.println("                 gold reward   95% CI");
        row(out, "SFT policy", gold.sft());
        row(out, "tuned policy", gold.tuned());
        row(out, "best reachable", gold.best());
        out.printf("gain (paired)    %+.3f        [%+.3f, %+.3f]  (per prompt, same seeds)%n", gold.gain().mean(),
                gold.gain().low(), gold.gain().high());
        out.printf("gap closed       %.0f%% (target: at least 50%%)%n", 100 * gold.gapClosed());
        out.printf("reward model     accuracy against gold %.3f (ceiling: the annotator panel's majority %.3f, on the"
                + " same %d held-out comparisons)%n", gold.rmAccuracy(), gold.panelMajority().accuracy(),
                gold.panelMajority().pairs());
        out.println();
    }

    private static void row(PrintStream out, String name, GoldEvaluation.Estimate e) {
        out.printf("%-16s %+.3f        [%+.3f, %+.3f]%n", name, e.mean(), e.low(), e.high());
    }
}
