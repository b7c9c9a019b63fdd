package dev.rlhf.run;

import com.google.gson.GsonBuilder;
import dev.rlhf.experiment.GoldEvaluation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The before/after result of a run, written as {@code summary.json}.
 *
 * @param goldBest gold reward of the gold-optimal responses to the evaluation prompts
 * @param goldGain the tuned policy's gold gain over the SFT policy, paired by prompt (same prompts and seeds)
 * @param klFinal KL to the reference of the tuned policy (nats per response), estimated over its completions of the
 *     evaluation prompts: steadier than one training batch's figure
 * @param klLastIteration KL to the reference of the last iteration's rollout batch (what the KL controller saw)
 * @param klTarget the KL budget of the run ({@code rlhf.ppo.kl.target})
 * @param rmAccuracyGold accuracy against gold of the last reward model, on held-out comparisons
 */
public record RunSummary(
        GoldEvaluation.Estimate goldSft,
        GoldEvaluation.Estimate goldTuned,
        GoldEvaluation.Estimate goldBest,
        GoldEvaluation.Estimate goldGain,
        GoldEvaluation.Estimate klFinal,
        double klLastIteration,
        double klTarget,
        double rmAccuracyGold,
        int rewardModelVersions,
        int iterations,
        double secondsTotal) {

    public static final String FILE_NAME = "summary.json";

    /** Share of the gap between the SFT policy and the best reachable gold reward that tuning closed. */
    public double gapClosed() {
        return (goldTuned.mean() - goldSft.mean()) / (goldBest.mean() - goldSft.mean());
    }

    /** Writes {@value #FILE_NAME} into {@code runDir}; returns its path. */
    public Path write(Path runDir) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("gold_reward_sft", goldSft.mean());
        json.put("gold_reward_sft_ci95", List.of(goldSft.low(), goldSft.high()));
        json.put("gold_reward_tuned", goldTuned.mean());
        json.put("gold_reward_tuned_ci95", List.of(goldTuned.low(), goldTuned.high()));
        json.put("gold_reward_best", goldBest.mean());
        json.put("gold_reward_best_ci95", List.of(goldBest.low(), goldBest.high()));
        json.put("gold_gain_paired", goldGain.mean());
        json.put("gold_gain_paired_ci95", List.of(goldGain.low(), goldGain.high()));
        json.put("gap_closed", gapClosed());
        json.put("kl_final", klFinal.mean());
        json.put("kl_final_ci95", List.of(klFinal.low(), klFinal.high()));
        json.put("kl_last_iteration", klLastIteration);
        json.put("kl_target", klTarget);
        json.put("rm_accuracy_gold", rmAccuracyGold);
        json.put("reward_model_versions", rewardModelVersions);
        json.put("evaluation_prompts", goldSft.samples());
        json.put("iterations", iterations);
        json.put("seconds_total", secondsTotal);
        Path file = runDir.resolve(FILE_NAME);
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                .create().toJson(json), StandardCharsets.UTF_8);
        return file;
    }
}
