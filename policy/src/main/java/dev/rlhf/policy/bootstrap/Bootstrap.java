package dev.rlhf.policy.bootstrap;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.ByteLevelBpe;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.policy.train.AdamW;
import dev.rlhf.policy.train.LanguageModelTrainer;
import dev.rlhf.policy.train.LanguageModelTrainer.Example;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream stand-in: trains a tokenizer on the generated review corpus, pretrains a tiny GPT-2 on it, then
 * fine-tunes it on prompt/response pairs, and writes the result as a Hugging Face-layout checkpoint (the
 * embedded default policy). Deterministic for a seed on a given machine.
 */
public final class Bootstrap {
    /** Written next to the checkpoint: the settings and the losses of the run. */
    public static final String REPORT_FILE = "bootstrap.json";

    private static final Logger LOG = LoggerFactory.getLogger(Bootstrap.class);

    private final BootstrapSettings settings;
    private final ReviewCorpus corpus = new ReviewCorpus();
    private final Progress progress;

    /** Hears how training goes, every 50 steps and at the last step of each phase. */
    @FunctionalInterface
    public interface Progress {
        /**
         * @param phase {@code pretrain} or {@code sft}
         * @param step steps done, from 1
         */
        void step(String phase, int step, int steps, double loss);
    }

    public Bootstrap(BootstrapSettings settings) {
        this(settings, (phase, step, steps, loss) -> { });
    }

    public Bootstrap(BootstrapSettings settings, Progress progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /** Builds the SFT checkpoint into {@code outputDir} (config.json, model.safetensors, tokenizer files). */
    public void run(Path outputDir, NDManager parent) throws IOException {
        long started = System.nanoTime();
        List<String> documents = corpus.pretrainingDocuments(settings.pretrainDocuments(), settings.seed());
        List<PromptResponse> pairs = corpus.sftPairs(settings.sftPairs(), settings.seed() + 1);

        Files.createDirectories(outputDir);
        ByteLevelBpe bpe = new ByteLevelBpeTrainer(settings.vocabSize()).train(documents);
        bpe.writeTokenizerJson(outputDir);
        TokenizerFiles.writeConfig(outputDir);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("settings", settings);
        try (TextTokenizer tokenizer = TextTokenizer.load(outputDir)) {
            int eos = tokenizer.eosTokenId().orElseThrow(() -> new IllegalStateException("tokenizer has no EOS"));
            GptConfig config = GptConfig.of(tokenizer.vocabSize(), settings.contextLength(), settings.dModel(),
                    settings.layers(), settings.heads(), eos);
            List<Example> pretraining = new ArrayList<>();
            for (String document : documents) {
                pretraining.add(new Example(clip(tokenizer.encode(document)), 1));
            }
            List<Example> sft = new ArrayList<>();
            for (PromptResponse pair : pairs) {
                int[] prompt = tokenizer.encode(pair.prompt());
                int[] response = tokenizer.encode(pair.response());
                int[] tokens = new int[prompt.length + response.length];
                System.arraycopy(prompt, 0, tokens, 0, prompt.length);
                System.arraycopy(response, 0, tokens, prompt.length, response.length);
                sft.add(new Example(clip(tokens), prompt.length));
            }
            try (GptModel model = new GptModel(GptWeights.random(config, false, parent, settings.seed()))) {
                report.put("pretrain_loss", train(model, pretraining, settings.pretrainSteps(),
                        settings.pretrainLearningRate(), "pretrain"));
                report.put("sft_loss", train(model, sft, settings.sftSteps(), settings.sftLearningRate(), "sft"));
                GptCheckpoint.save(model.weights(), outputDir);
            }
        }
        report.put("seconds", (System.nanoTime() - started) / 1e9);
        Files.writeString(outputDir.resolve(REPORT_FILE),
                new GsonBuilder().setPrettyPrinting().create().toJson(report), StandardCharsets.UTF_8);
        LOG.info("embedded SFT policy written to {} in {} s", outputDir, String.format("%.1f", report.get("seconds")));
    }

    private int[] clip(int[] tokens) {
        return tokens.length <= settings.contextLength()
                ? tokens : java.util.Arrays.copyOf(tokens, settings.contextLength());
    }

    /** Runs {@code steps} steps with linear warm-up and cosine decay; returns the mean loss of the last 10%. */
    private double train(GptModel model, List<Example> examples, int steps, float peakRate, String phase) {
        SplittableRandom random = new SplittableRandom(settings.seed() ^ phase.hashCode());
        int warmup = Math.max(1, steps / 20);
        double tailLoss = 0;
        int tailCount = 0;
        try (LanguageModelTrainer trainer = new LanguageModelTrainer(model, AdamW.Settings.of(peakRate))) {
            for (int step = 0; step < steps; step++) {
                List<Example> batch = new ArrayList<>(settings.batchSize());
                for (int i = 0; i < settings.batchSize(); i++) {
                    batch.add(examples.get(random.nextInt(examples.size())));
                }
                float rate = step < warmup
                        ? peakRate * (step + 1) / warmup
                        : (float) (peakRate * 0.5 * (1 + Math.cos(Math.PI * (step - warmup) / (steps - warmup))));
                float loss = trainer.step(batch, Math.max(rate, peakRate * 0.05f));
                if (step >= steps - Math.max(1, steps / 10)) {
                    tailLoss += loss;
                    tailCount++;
                }
                if (step % 50 == 0 || step == steps - 1) {
                    LOG.info("{} step {}/{} loss {}", phase, step + 1, steps, String.format("%.3f", loss));
                    progress.step(phase, step + 1, steps, loss);
                }
            }
        }
        return tailLoss / tailCount;
    }
}
