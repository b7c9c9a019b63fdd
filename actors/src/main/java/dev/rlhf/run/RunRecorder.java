package dev.rlhf.run;

import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.ExperimentCoordinator.Event;
import dev.rlhf.experiment.EvaluationFile;
import dev.rlhf.experiment.GoldEvaluation;
import dev.rlhf.experiment.WinRate;
import dev.rlhf.metrics.RunMetrics;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.rewardmodel.ComparisonSource;
import dev.rlhf.rewardmodel.GoldAgreement;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardScorer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Records what the coordinator reports in the run directory: metrics per iteration, the SFT and the tuned
 * policy's evaluation completions, reward-model versions; and builds the run's summary at the end. Its writes are
 * synced, so it runs in an actor of its own on the blocking dispatcher (see {@link RunGuardian}); not thread-safe.
 */
final class RunRecorder {
    private final RunMetrics metrics;
    private final Path runDir;
    private final PrintStream console;
    private final Optional<GoldScore> gold;
    private final Optional<GoldAgreement> panelMajority;
    private final List<RewardModelInfo> versions = new ArrayList<>();
    private List<String> evaluationPrompts;
    private List<Completion> sftCompletions;
    private List<Completion> tunedCompletions;
    private double lastKl = Double.NaN;

    /**
     * @param gold the task's gold score; empty when it has none
     * @param panelMajority the annotator panel's majority against gold on the held-out comparisons the reward
     *     models' accuracy is measured on; present with {@code gold}
     */
    RunRecorder(RunMetrics metrics, Path runDir, PrintStream console, Optional<GoldScore> gold,
            Optional<GoldAgreement> panelMajority) {
        this.metrics = metrics;
        this.runDir = runDir;
        this.console = console;
        this.gold = gold;
        this.panelMajority = panelMajority;
    }

    /** A resumed run: versions 1..{@code current} come from disk, and the SFT evaluation from its file. */
    void resumed(RewardModelInfo current, Path versionsRoot) throws IOException {
        if (current != null) {
            for (int v = 1; v < current.version(); v++) {
                versions.add(RewardModelInfo.read(RewardModelCheckpoint.versionDirectory(versionsRoot, v)));
            }
            versions.add(current);
        }
        EvaluationFile.Evaluation evaluation = EvaluationFile.read(runDir.resolve(EvaluationFile.SFT));
        evaluationPrompts = evaluation.prompts();
        sftCompletions = evaluation.completions();
    }

    void record(Event event) throws IOException {
        if (event instanceof ExperimentCoordinator.Evaluated e) {
            evaluationPrompts = e.prompts();
            boolean sft = e.weightVersion() == 0;
            if (sft) {
                sftCompletions = e.completions();
            } else {
                tunedCompletions = e.completions();
            }
            EvaluationFile.write(runDir.resolve(sft ? EvaluationFile.SFT : EvaluationFile.TUNED),
                    new EvaluationFile.Evaluation(e.prompts(), e.completions()));
        } else if (event instanceof ExperimentCoordinator.RewardModelTrained t) {
            versions.add(t.info());
            Double againstGold = t.info().metrics().get("accuracy_against_gold");
            if (againstGold != null) {
                console.printf("reward model v%d from iteration %d: held-out accuracy against gold %.3f (the"
                        + " panel's majority: %.3f)%n", t.info().version(), t.fromIteration(), againstGold,
                        panelMajority.orElseThrow().accuracy());
            } else {
                console.printf("reward model v%d from iteration %d: held-out accuracy %.3f on its own data%n",
                        t.info().version(), t.fromIteration(), t.info().metrics().get("held_out_accuracy"));
            }
        } else if (event instanceof ExperimentCoordinator.IterationDone d) {
            lastKl = d.klToReference();
            metrics.record(d.iteration() + 1, d.scalars());
        }
    }

    /** The version the run ended with. */
    int lastVersion() {
        return versions.get(versions.size() - 1).version();
    }

    /**
     * The summary of a finished run (and prints sample completions before and after).
     *
     * @param finalRewardModel scores with {@link #lastVersion()}
     */
    RunSummary summary(int iterations, double[] evaluationKl, double klTarget, double seconds,
            RewardScorer finalRewardModel) {
        double[] sftScores = finalRewardModel.scores(pairs(sftCompletions));
        double[] tunedScores = finalRewardModel.scores(pairs(tunedCompletions));
        double[] gains = new double[sftScores.length];
        for (int i = 0; i < gains.length; i++) {
            gains[i] = tunedScores[i] - sftScores[i];
        }
        RunSummary.RewardModelView rewardModel = new RunSummary.RewardModelView(lastVersion(),
                GoldEvaluation.estimate(sftScores, sftCompletions), GoldEvaluation.estimate(tunedScores,
                tunedCompletions), GoldEvaluation.estimate(gains, List.of()), WinRate.of(sftScores, tunedScores));
        RunSummary summary = new RunSummary(gold.map(this::goldFigures), rewardModel,
                GoldEvaluation.estimate(evaluationKl, List.of()), lastKl, klTarget, versions.size(), iterations,
                seconds);
        printSamples(sftScores, tunedScores);
        return summary;
    }

    private RunSummary.Gold goldFigures(GoldScore score) {
        ReviewCorpus corpus = new ReviewCorpus();
        double[] best = new double[evaluationPrompts.size()];
        for (int i = 0; i < best.length; i++) {
            String prompt = evaluationPrompts.get(i);
            best[i] = score.score(prompt, corpus.bestResponse(prompt, i));
        }
        return new RunSummary.Gold(GoldEvaluation.of(score, evaluationPrompts, sftCompletions),
                GoldEvaluation.of(score, evaluationPrompts, tunedCompletions), GoldEvaluation.estimate(best, List.of()),
                GoldEvaluation.pairedGain(score, evaluationPrompts, sftCompletions, tunedCompletions),
                versions.get(versions.size() - 1).metrics().get("accuracy_against_gold"), panelMajority.orElseThrow());
    }

    private List<PromptResponse> pairs(List<Completion> completions) {
        List<PromptResponse> pairs = new ArrayList<>(completions.size());
        for (int i = 0; i < completions.size(); i++) {
            pairs.add(new PromptResponse(evaluationPrompts.get(i), ComparisonSource.responseText(completions.get(i))));
        }
        return pairs;
    }

    private void printSamples(double[] sftScores, double[] tunedScores) {
        console.println();
        console.println("Sample completions (same prompts and seeds), SFT -> tuned:");
        for (int i = 0; i < Math.min(3, evaluationPrompts.size()); i++) {
            String prompt = evaluationPrompts.get(i);
            String sftText = sftCompletions.get(i).text();
            String tunedText = tunedCompletions.get(i).text();
            console.printf("  %s%n    SFT   (%s):%s%n    tuned (%s):%s%n", prompt,
                    scores(prompt, sftText, sftScores[i]), sftText, scores(prompt, tunedText, tunedScores[i]),
                    tunedText);
        }
    }

    /** "gold +0.12, rm +0.40" on the embedded task, "rm +0.40" on one without gold. */
    private String scores(String prompt, String text, double rewardModelScore) {
        String rm = String.format("rm %+.2f", rewardModelScore);
        return gold.map(g -> String.format("gold %+.2f, %s", g.score(prompt, text), rm)).orElse(rm);
    }
}
