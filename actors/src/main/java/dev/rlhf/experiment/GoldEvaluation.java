package dev.rlhf.experiment;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.Generator;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/** Mean gold reward of a policy's samples on fixed prompts, with a 95% confidence interval. */
public final class GoldEvaluation {
    private final GoldScore gold = new GoldScore();
    private final TextTokenizer tokenizer;
    private final List<String> prompts;
    private final SamplingParams sampling;
    private final long seed;

    /** A mean and the half-width of its normal-approximation 95% confidence interval. */
    public record Estimate(double mean, double ci95, int samples, List<Completion> completions) {
        public double low() {
            return mean - ci95;
        }

        public double high() {
            return mean + ci95;
        }
    }

    public GoldEvaluation(TextTokenizer tokenizer, List<String> prompts, SamplingParams sampling, long seed) {
        this.tokenizer = tokenizer;
        this.prompts = List.copyOf(prompts);
        this.sampling = sampling;
        this.seed = seed;
    }

    /** Samples each prompt once (same seeds for every policy, so policies are compared on equal draws). */
    public Estimate evaluate(Generator generator) {
        List<GenerationRequest> requests = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(new GenerationRequest(tokenizer.encode(prompts.get(i)), sampling.withSeed(seed + i)));
        }
        List<Completion> completions = generator.generate(requests);
        double[] scores = new double[completions.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = gold.score(prompts.get(i), completions.get(i).text());
        }
        return estimate(scores, completions);
    }

    /** Mean and 95% interval of gold scores. */
    public static Estimate estimate(double[] scores, List<Completion> completions) {
        double mean = 0;
        for (double s : scores) {
            mean += s;
        }
        mean /= scores.length;
        double variance = 0;
        for (double s : scores) {
            variance += (s - mean) * (s - mean);
        }
        variance /= Math.max(1, scores.length - 1);
        return new Estimate(mean, 1.96 * Math.sqrt(variance / scores.length), scores.length, completions);
    }

    public List<String> prompts() {
        return prompts;
    }
}
