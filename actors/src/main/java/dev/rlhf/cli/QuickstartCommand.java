package dev.rlhf.cli;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf quickstart}: the main job on embedded defaults. Today it builds the embedded SFT policy if it is
 * missing and samples it on held-out prompts, reporting the gold reward the later RLHF stages will improve.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Run the main job on embedded defaults: build the SFT policy if missing, then generate.")
final class QuickstartCommand implements Callable<Integer> {

    @Option(names = "--samples", defaultValue = "64", description = "Held-out prompts to score (default 64).")
    private int samples;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of prompts and sampling (default 1).")
    private long seed;

    @Override
    public Integer call() throws Exception {
        CliContext context = CliContext.load();
        Path dir = context.embeddedModelDir();
        BootstrapCommand.ensureBuilt(context, dir);
        List<String> prompts = new ReviewCorpus().prompts(samples, seed);
        GoldScore gold = new GoldScore();
        try (NDManager manager = context.newManager(); Policy policy = Policy.load(dir, manager)) {
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                requests.add(new GenerationRequest(policy.tokenizer().encode(prompts.get(i)),
                        SamplingParams.sample(48, seed * 1_000_003L + i)));
            }
            long start = System.nanoTime();
            List<Completion> completions = policy.generator().generate(requests);
            double seconds = (System.nanoTime() - start) / 1e9;
            double sum = 0;
            for (int i = 0; i < completions.size(); i++) {
                double score = gold.score(prompts.get(i), completions.get(i).text());
                sum += score;
                if (i < 5) {
                    System.out.printf("gold %+.2f | %s%s%n", score, prompts.get(i), completions.get(i).text());
                }
            }
            int tokens = completions.stream().mapToInt(c -> c.tokenIds().length).sum();
            System.out.printf("SFT policy %s: mean gold reward %.3f over %d held-out prompts "
                    + "(%d tokens in %.2f s)%n", dir, sum / completions.size(), completions.size(), tokens, seconds);
        }
        return 0;
    }
}
