package dev.rlhf.actors;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.generate.Completion;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The scalar metrics of one iteration (metrics.jsonl, TensorBoard), computed from what the iteration produced. */
final class IterationScalars {
    private IterationScalars() {}

    /**
     * The preference store's judgments at an iteration's boundary, when people judge (human and mixed modes).
     *
     * @param total the store's newest judgment sequence number: every judgment so far, simulated ones included
     * @param pending judgments after the newest one handed to a reward-model training
     */
    record Judgments(long total, long pending) {}

    /**
     * @param learnerScalars the learner's own statistics ({@link OnlineLearner.Update#scalars()})
     * @param prompts the prompt of each completion
     * @param scores the reward model's normalised score of each completion
     * @param gold the hidden gold score, when the annotators are simulated: adds {@code reward/gold_mean}
     * @param judgments the store's judgments, when people judge: adds {@code preferences/judgments_total} and
     *     {@code preferences/judgments_pending}
     * @param timings phase durations ({@code time/*}), in the order they are to appear
     */
    static Map<String, Double> of(Map<String, Double> learnerScalars, long weightVersion, int rewardModelVersion, List<String> prompts,
            List<Completion> completions, float[] scores, Optional<GoldScore> gold, Optional<Judgments> judgments,
            Map<String, Double> timings) {
        Map<String, Double> scalars = new LinkedHashMap<>();
        double[] asDoubles = new double[scores.length];
        for (int i = 0; i < scores.length; i++) {
            asDoubles[i] = scores[i];
        }
        scalars.put("reward/rm_mean", mean(asDoubles));
        scalars.put("reward/rm_std", std(asDoubles));
        scalars.put("reward/rm_version", (double) rewardModelVersion);
        gold.ifPresent(g -> {
            double[] golds = new double[completions.size()];
            for (int i = 0; i < golds.length; i++) {
                golds[i] = g.score(prompts.get(i), completions.get(i).text());
            }
            scalars.put("reward/gold_mean", mean(golds));
        });
        judgments.ifPresent(j -> {
            scalars.put("preferences/judgments_total", (double) j.total());
            scalars.put("preferences/judgments_pending", (double) j.pending());
        });
        scalars.putAll(learnerScalars);
        int tokens = completions.stream().mapToInt(c -> c.tokenIds().length).sum();
        scalars.put("rollout/response_length", tokens / (double) completions.size());
        scalars.put("perf/tokens_per_s", tokens / timings.get("time/rollout_s"));
        scalars.put("policy/weight_version", (double) weightVersion);
        scalars.putAll(timings);
        return scalars;
    }

    private static double mean(double[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }

    private static double std(double[] values) {
        double mean = Arrays.stream(values).average().orElse(0);
        double sum = 0;
        for (double v : values) {
            sum += (v - mean) * (v - mean);
        }
        return Math.sqrt(sum / Math.max(1, values.length - 1));
    }
}
