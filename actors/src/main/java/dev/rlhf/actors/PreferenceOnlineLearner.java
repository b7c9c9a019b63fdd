package dev.rlhf.actors;

import dev.rlhf.policy.align.DpoSettings;
import dev.rlhf.policy.align.PreferenceLearner;
import dev.rlhf.policy.align.PreferencePair;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.policy.train.AdamW;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.Verdict;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DPO or IPO behind the learner role: {@link PreferenceLearner} on the judged initial comparisons (the ones reward
 * model v1 trains on), which the coordinator hands over once they are read ({@link #usePreferences}). Each
 * {@link #learn} is one epoch of those pairs, not an update on the rollout: the rollout only gives the
 * {@code kl/to_reference} of the policy that sampled it, measured before the epoch, as PPO's is. Every A or B
 * judgment is one pair (the preferred response chosen), so a comparison judged by several annotators weighs as
 * many pairs; ties and skips are none. The pairs are all trained on ({@code held-out-fraction} of
 * {@code rlhf.dpo}/{@code rlhf.ipo} is for {@code rlhf dpo train}); their {@code epochs} caps the run's iterations.
 */
public final class PreferenceOnlineLearner implements OnlineLearner {
    private final PreferenceLearner learner;
    private final TextTokenizer tokenizer;
    private List<PreferencePair> pairs;

    /**
     * Takes ownership of {@code learner}.
     *
     * @param tokenizer the policy's tokenizer, which the comparisons' texts are encoded with; the caller keeps it
     */
    public PreferenceOnlineLearner(PreferenceLearner learner, TextTokenizer tokenizer) {
        this.learner = learner;
        this.tokenizer = tokenizer;
    }

    @Override
    public Algorithm algorithm() {
        return learner.settings().objective() == DpoSettings.Objective.DPO ? Algorithm.DPO : Algorithm.IPO;
    }

    @Override
    public WeightsSnapshot initialSnapshot() {
        return learner.snapshot();
    }

    /**
     * The judged comparisons to train on from now on, turned into pairs.
     *
     * @throws IllegalArgumentException if no judgment orders a pair (all ties or skips)
     */
    public void usePreferences(List<JudgedComparison> judged) {
        List<PreferencePair> built = pairs(judged, tokenizer, learner.policy().config().contextLength());
        if (built.isEmpty()) {
            throw new IllegalArgumentException(algorithm().key() + " needs preference pairs but none of the "
                    + judged.size() + " judgments prefers a response");
        }
        this.pairs = built;
    }

    /**
     * One pair per A or B judgment, in the judgments' order: the prompt and both responses encoded with the policy's
     * tokenizer (a response's trailing end-of-text token encodes to its id, as it was sampled). A batch pads every
     * pair to its longest prompt and its longest response, so responses are cut to the context less the longest
     * prompt (a sampled response's text can re-encode longer than it was sampled); a judgment with an empty prompt
     * or response is left out.
     */
    static List<PreferencePair> pairs(List<JudgedComparison> judged, TextTokenizer tokenizer, int contextLength) {
        List<JudgedComparison> ordered = judged.stream()
                .filter(j -> j.judgment().verdict() == Verdict.A || j.judgment().verdict() == Verdict.B)
                .toList();
        List<int[]> prompts = ordered.stream().map(j -> tokenizer.encode(j.comparison().prompt())).toList();
        int room = contextLength - prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        List<PreferencePair> pairs = new ArrayList<>();
        for (int i = 0; i < ordered.size(); i++) {
            Comparison c = ordered.get(i).comparison();
            int[] prompt = prompts.get(i);
            int[] a = fit(tokenizer.encode(c.responseA()), room);
            int[] b = fit(tokenizer.encode(c.responseB()), room);
            if (prompt.length == 0 || a.length == 0 || b.length == 0) {
                continue;
            }
            pairs.add(ordered.get(i).judgment().verdict() == Verdict.A
                    ? new PreferencePair(prompt, a, b)
                    : new PreferencePair(prompt, b, a));
        }
        return pairs;
    }

    private static int[] fit(int[] tokens, int room) {
        return tokens.length <= room ? tokens : Arrays.copyOf(tokens, Math.max(0, room));
    }

    /**
     * One epoch of the preference pairs; the rollout gives only its KL to the reference.
     *
     * @throws IllegalStateException if no pairs were given yet
     */
    @Override
    public Update learn(List<int[]> prompts, List<Completion> completions, float[] scores) {
        if (pairs == null) {
            throw new IllegalStateException(algorithm().key() + " has no preference pairs: the judged initial "
                    + "comparisons were not handed to the learner");
        }
        double kl = Arrays.stream(klToReference(prompts, completions)).average().orElse(0);
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("kl/to_reference", kl);
        scalars.putAll(learner.trainEpoch(pairs, learner.version()).scalars());
        return new Update(kl, scalars, learner.snapshot());
    }

    @Override
    public double[] klToReference(List<int[]> prompts, List<Completion> completions) {
        return learner.klToReference(prompts, completions.stream().map(Completion::tokenIds).toList());
    }

    @Override
    public long version() {
        return learner.version();
    }

    @Override
    public GptWeights weights() {
        return learner.policy().weights();
    }

    @Override
    public AdamW optimizer() {
        return learner.optimizer();
    }

    @Override
    public Map<String, Double> checkpointState() {
        return Map.of();
    }

    @Override
    public void close() {
        learner.close();
    }
}
