package dev.rlhf.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf generate}: completions from any checkpoint the project reads. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf generate --prompt 'The hotel was' --max-new-tokens 24 --temperature 0",
            "  ./rlhf generate --prompt 'Review:' --top-p 0.9 --seed 7 --json"},
        description = "Generate completions from a checkpoint (HF GPT-2 layout: config.json, model.safetensors, "
                + "tokenizer.json).")
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", description = "Checkpoint directory (default: the embedded SFT policy).")
    private Path checkpoint;

    @Option(names = "--prompt", required = true, description = "A prompt; repeat for a batch.")
    private List<String> prompts;

    @Option(names = "--max-new-tokens", defaultValue = "32", description = "Most tokens to generate (default 32).")
    private int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "1.0", description = "0 means greedy (default 1).")
    private float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens; 0 disables.")
    private int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus mass to keep; 1 disables.")
    private float topP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "1 disables.")
    private float repetitionPenalty;

    @Option(names = "--stop", description = "Stop string; repeatable.")
    private List<String> stops = new ArrayList<>();

    @Option(names = "--seed", description = "Seed; prompt i uses seed + i (default: random).")
    private Long seed;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    private boolean json;

    @Override
    public Integer call() throws Exception {
        long base = seed != null ? seed : System.nanoTime();
        SamplingParams params = new SamplingParams(temperature, topK, topP, maxNewTokens, repetitionPenalty,
                Set.of(), stops, base); // checked before a missing embedded policy is built
        CliContext context = CliContext.load();
        Path dir = checkpoint;
        if (dir == null) {
            dir = context.embeddedModelDir();
            BootstrapCommand.ensureBuilt(context, dir);
        }
        try (NDManager manager = context.newManager(); Policy policy = Policy.load(dir, manager)) {
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                requests.add(new GenerationRequest(policy.tokenizer().encode(prompts.get(i)),
                        params.withSeed(base + i)));
            }
            List<Completion> completions = policy.generator().generate(requests);
            if (json) {
                printJson(completions);
            } else {
                for (int i = 0; i < completions.size(); i++) {
                    Completion c = completions.get(i);
                    System.out.println(prompts.get(i) + c.text() + "  [" + c.finishReason().wireName() + ", "
                            + c.tokenIds().length + " tokens]");
                }
            }
        }
        return 0;
    }

    private void printJson(List<Completion> completions) {
        List<Map<String, Object>> items = new ArrayList<>();
        for (int i = 0; i < completions.size(); i++) {
            Completion c = completions.get(i);
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("prompt", prompts.get(i));
            item.put("text", c.text());
            item.put("token_ids", c.tokenIds());
            item.put("logprobs", c.logprobs());
            item.put("finish_reason", c.finishReason().wireName());
            items.add(item);
        }
        System.out.println(new GsonBuilder().disableHtmlEscaping().create().toJson(Map.of("completions", items)));
    }
}
