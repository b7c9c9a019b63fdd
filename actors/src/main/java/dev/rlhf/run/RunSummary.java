package dev.rlhf.run;

import com.google.gson.GsonBuilder;
import dev.rlhf.experiment.GoldEvaluation;
import dev.rlhf.experiment.GoldEvaluation.Estimate;
import dev.rlhf.experiment.WinRate;
import dev.rlhf.rewardmodel.GoldAgreement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The before/after result of a run, written as {@code summary.json}: the gold figures where the task has a gold
 * score (the embedded one), and on every task what the run's own reward model says of the SFT and the tuned
 * policy's completions of the evaluation prompts, and the KL between them.
 *
 * @param gold the gold figures; empty when the task has no gold score
 * @param rewardModel the final reward model's view of the same completions
 * @param klFinal KL to the reference of the tuned policy (nats per response), estimated over its completions of the
 *     evaluation prompts: steadier than one training batch's figure
 * @param klLastIteration KL to the reference of the last iteration's rollout batch (what the KL controller saw)
 * @param klTarget the KL budget of the run ({@code rlhf.ppo.kl.target})
 */
public record RunSummary(
        Optional<Gold> gold,
        RewardModelView rewardModel,
        Estimate klFinal,
        double klLastIteration,
        double klTarget,
        int rewardModelVersions,
        int iterations,
        double secondsTotal) {

    public static final String FILE_NAME = "summary.json";

    /**
     * Gold rewards of the evaluation completions.
     *
     * @param best gold reward of the gold-optimal responses to the evaluation prompts
     * @param gain the tuned policy's gold gain over the SFT policy, paired by prompt (same prompts and seeds)
     * @param rmAccuracy accuracy against gold of the last reward model, on held-out comparisons
     * @param panelMajority the annotator panel's majority against gold on the same comparisons: the reward
     *     model's ceiling, the rest of the gap being label noise
     */
    public record Gold(Estimate sft, Estimate tuned, Estimate best, Estimate gain, double rmAccuracy,
            GoldAgreement panelMajority) {
        /** Share of the gap between the SFT policy and the best reachable gold reward that tuning closed. */
        public double gapClosed() {
            return (tuned.mean() - sft.mean()) / (best.mean() - sft.mean());
        }
    }

    /**
     * The final reward model's normalised scores of the evaluation completions.
     *
     * @param version the reward-model version that scored them (the one in use at the end)
     * @param gain the tuned policy's score minus the SFT policy's, paired by prompt
     * @param winRate the share of prompts whose tuned completion it scores above the SFT one (a tie counts half)
     */
    public record RewardModelView(int version, Estimate sft, Estimate tuned, Estimate gain, WinRate winRate) {}

    /** The number of evaluation prompts. */
    public int evaluationPrompts() {
        return rewardModel.sft().samples();
    }

    /** Writes {@value #FILE_NAME} into {@code runDir}; returns its path. */
    public Path write(Path runDir) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        gold.ifPresent(g -> {
            putEstimate(json, "gold_reward_sft", g.sft());
            putEstimate(json, "gold_reward_tuned", g.tuned());
            putEstimate(json, "gold_reward_best", g.best());
            putEstimate(json, "gold_gain_paired", g.gain());
            json.put("gap_closed", g.gapClosed());
        });
        putEstimate(json, "kl_final", klFinal);
        json.put("kl_last_iteration", klLastIteration);
        json.put("kl_target", klTarget);
        gold.ifPresent(g -> {
            json.put("rm_accuracy_gold", g.rmAccuracy());
            json.put("panel_majority_accuracy_gold", g.panelMajority().accuracy());
            json.put("gold_held_out_pairs", g.panelMajority().pairs());
        });
        json.put("reward_model_versions", rewardModelVersions);
        json.put("evaluation_prompts", evaluationPrompts());
        json.put("iterations", iterations);
        json.put("seconds_total", secondsTotal);
        json.put("gold_reward_available", gold.isPresent());
        json.put("rm_version_scored", rewardModel.version());
        putEstimate(json, "rm_score_sft", rewardModel.sft());
        putEstimate(json, "rm_score_tuned", rewardModel.tuned());
        putEstimate(json, "rm_gain_paired", rewardModel.gain());
        json.put("rm_win_rate", rewardModel.winRate().rate());
        json.put("rm_win_rate_ci95", List.of(rewardModel.winRate().low(), rewardModel.winRate().high()));
        Path file = runDir.resolve(FILE_NAME);
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                .create().toJson(json), StandardCharsets.UTF_8);
        return file;
    }

    /** {@code name} with the mean, and {@code name_ci95} with the interval. */
    private static void putEstimate(Map<String, Object> json, String name, GoldEvaluation.Estimate estimate) {
        json.put(name, estimate.mean());
        json.put(name + "_ci95", List.of(estimate.low(), estimate.high()));
    }
}
