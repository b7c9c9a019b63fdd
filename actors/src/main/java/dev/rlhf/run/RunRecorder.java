package dev.rlhf.run;

import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.ExperimentCoordinator.Event;
import dev.rlhf.experiment.EvaluationFile;
import dev.rlhf.experiment.GoldEvaluation;
import dev.rlhf.metrics.RunMetrics;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Records what the coordinator reports in the run directory: metrics per iteration, the SFT evaluation,
 * reward-model versions; and builds the run's summary at the end. Its writes are synced, so it runs in an actor
 * of its own on the blocking dispatcher (see {@link RunGuardian}); not thread-safe.
 */
final class RunRecorder {
    private final RunMetrics metrics;
    private final Path sftEvaluationFile;
    private final PrintStream console;
    private final GoldScore gold = new GoldScore();
    private final List<RewardModelInfo> versions = new ArrayList<>();
    private GoldEvaluation.Estimate before;
    private GoldEvaluation.Estimate after;
    private List<String> evaluationPrompts;
    private double lastKl = Double.NaN;

    RunRecorder(RunMetrics metrics, Path sftEvaluationFile, PrintStream console) {
        this.metrics = metrics;
        this.sftEvaluationFile = sftEvaluationFile;
        this.console = console;
    }

    /** A resumed run: versions 1..{@code current} come from disk, and the SFT evaluation from its file. */
    void resumed(RewardModelInfo current, Path versionsRoot) throws IOException {
        if (current != null) {
            for (int v = 1; v < current.version(); v++) {
                versions.add(RewardModelInfo.read(RewardModelCheckpoint.versionDirectory(versionsRoot, v)));
            }
            versions.add(current);
        }
        EvaluationFile.Evaluation evaluation = EvaluationFile.read(sftEvaluationFile);
        evaluationPrompts = evaluation.prompts();
        before = GoldEvaluation.of(gold, evaluation.prompts(), evaluation.completions());
    }

    void record(Event event) throws IOException {
        if (event instanceof ExperimentCoordinator.Evaluated e) {
            GoldEvaluation.Estimate estimate = GoldEvaluation.of(gold, e.prompts(), e.completions());
            evaluationPrompts = e.prompts();
            if (e.weightVersion() == 0) {
                before = estimate;
                EvaluationFile.write(sftEvaluationFile, new EvaluationFile.Evaluation(e.prompts(), e.completions()));
            } else {
                after = estimate;
            }
        } else if (event instanceof ExperimentCoordinator.RewardModelTrained t) {
            versions.add(t.info());
            console.printf("reward model v%d from iteration %d: held-out accuracy against gold %.3f%n",
                    t.info().version(), t.fromIteration(), t.info().metrics().get("accuracy_against_gold"));
        } else if (event instanceof ExperimentCoordinator.IterationDone d) {
            lastKl = d.stats().klToReference();
            metrics.record(d.iteration() + 1, d.scalars());
        }
    }

    /** The summary of a finished run (and prints sample completions before and after). */
    RunSummary summary(int iterations, double[] evaluationKl, double klTarget, double seconds) {
        ReviewCorpus corpus = new ReviewCorpus();
        double[] best = new double[evaluationPrompts.size()];
        for (int i = 0; i < best.length; i++) {
            String prompt = evaluationPrompts.get(i);
            best[i] = gold.score(prompt, corpus.bestResponse(prompt, i));
        }
        RewardModelInfo last = versions.get(versions.size() - 1);
        GoldEvaluation.Estimate gain = GoldEvaluation.pairedGain(gold, evaluationPrompts, before.completions(),
                after.completions());
        RunSummary summary = new RunSummary(before, after, GoldEvaluation.estimate(best, List.of()), gain,
                GoldEvaluation.estimate(evaluationKl, List.of()), lastKl, klTarget,
                last.metrics().get("accuracy_against_gold"), versions.size(), iterations, seconds);
        printSamples();
        return summary;
    }

    private void printSamples() {
        console.println();
        console.println("Sample completions (same prompts and seeds), SFT -> tuned:");
        for (int i = 0; i < Math.min(3, evaluationPrompts.size()); i++) {
            String prompt = evaluationPrompts.get(i);
            String sftText = before.completions().get(i).text();
            String tunedText = after.completions().get(i).text();
            console.printf("  %s%n    SFT   (gold %+.2f):%s%n    tuned (gold %+.2f):%s%n", prompt,
                    gold.score(prompt, sftText), sftText, gold.score(prompt, tunedText), tunedText);
        }
    }
}
